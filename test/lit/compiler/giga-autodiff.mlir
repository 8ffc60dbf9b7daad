// RUN: giga-opt %s --split-input-file --giga-autodiff | FileCheck %s
// RUN: giga-opt %s --split-input-file --giga-autodiff=recompute | FileCheck %s --check-prefix=RECOMPUTE

// A linear head on an embedding: each VJP, the seed, and one gradient per
// parameter, handed to the store in reverse order of declaration.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xi32>, %[[T:.*]]: tensor<2x3xi32>)
// CHECK: %[[EMB:.*]] = giga.param "emb"
// CHECK: %[[W:.*]] = giga.param "w"
// CHECK: %[[E:.*]] = giga.embedding {{.*}} {giga.saved}
// CHECK: %[[M:.*]] = giga.matmul %[[E]], %[[W]] {transpose_rhs}
// CHECK: %[[L:.*]] = giga.bias_add %[[M]], {{.*}} {giga.saved}
// CHECK: %[[LOSS:.*]] = giga.cross_entropy %[[L]], %[[T]]
// CHECK: %[[SEED:.*]] = giga.fill 1.000000e+00 {giga.loss_seed} : tensor<f32>
// CHECK: %[[DL:.*]] = giga.cross_entropy_grad %[[SEED]], %[[L]], %[[T]]
// CHECK: %[[DB:.*]] = giga.reduce_sum %[[DL]] : tensor<2x3x10xf32> -> tensor<10xf32>
// CHECK: %[[DE:.*]] = giga.matmul %[[DL]], %[[W]] : (tensor<2x3x10xf32>, tensor<10x4xf32>) -> tensor<2x3x4xf32>
// The weight gradient is one product over all batches: [B*T, 10]^T [B*T, 4].
// CHECK: %[[ROWS:.*]] = giga.reshape %[[E]] : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK: %[[GROWS:.*]] = giga.reshape %[[DL]] : tensor<2x3x10xf32> -> tensor<6x10xf32>
// CHECK: %[[DW:.*]] = giga.matmul %[[GROWS]], %[[ROWS]] {transpose_lhs} : (tensor<6x10xf32>, tensor<6x4xf32>) -> tensor<10x4xf32>
// CHECK: %[[DEMB:.*]] = giga.embedding_grad %[[DE]], %[[X]] : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<10x4xf32>
// CHECK: giga.param_grad "b", %[[DB]] : tensor<10xf32>
// CHECK: giga.param_grad "w", %[[DW]] : tensor<10x4xf32>
// CHECK: giga.param_grad "emb", %[[DEMB]] : tensor<10x4xf32>
// CHECK: return %[[LOSS]] : tensor<f32>
func.func @linear(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %table = giga.param "emb" normal std 0.02 : tensor<10x4xf32>
  %w = giga.param "w" normal std 0.02 : tensor<10x4xf32>
  %b = giga.param "b" zeros : tensor<10xf32>
  %e = giga.embedding %table[%x] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %m = giga.matmul %e, %w {transpose_rhs} : (tensor<2x3x4xf32>, tensor<10x4xf32>) -> tensor<2x3x10xf32>
  %l = giga.bias_add %m, %b : (tensor<2x3x10xf32>, tensor<10xf32>) -> tensor<2x3x10xf32>
  %loss = giga.cross_entropy %l, %t : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The VJP of each op, and fan-out summed: q, k and v are one value here.
// CHECK-LABEL: func.func @ops
// CHECK: %[[WPE:.*]] = giga.param "wpe"
// CHECK: %[[POS:.*]] = giga.iota {giga.saved} : tensor<3xi32>
// CHECK: %[[H:.*]] = giga.add
// CHECK: %[[N:.*]] = giga.layernorm %[[H]]
// CHECK: %[[A:.*]] = giga.gelu %[[N]] tanh
// CHECK: %[[Q:.*]] = giga.transpose
// CHECK: %[[MASK:.*]] = giga.causal_mask {giga.saved}
// CHECK: %[[SPLIT:.*]]:2 = giga.split
// CHECK: %[[SM:.*]] = giga.softmax %[[SPLIT]]#0 {giga.saved}
// CHECK: %[[FLAT:.*]] = giga.reshape {{.*}} {giga.saved}
// CHECK: giga.cross_entropy_grad
// Not transposed: dA = g B^T, dB = A^T g.
// CHECK: %[[DFLAT:.*]] = giga.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x3x10xf32>, tensor<4x10xf32>) -> tensor<2x3x4xf32>
// CHECK: giga.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<6x4xf32>, tensor<6x10xf32>) -> tensor<4x10xf32>
// CHECK: giga.param_grad "head"
// CHECK: %[[DBACK:.*]] = giga.reshape %[[DFLAT]] : tensor<2x3x4xf32> -> tensor<2x3x2x2xf32>
// The inverse permutation of [0, 2, 1, 3] is itself.
// CHECK: %[[DSM:.*]] = giga.transpose %[[DBACK]] [0, 2, 1, 3]
// CHECK: %[[DS0:.*]] = giga.softmax_grad %[[DSM]], %[[SM]] : tensor<2x2x3x2xf32>
// The unused half of the split gets zeros.
// CHECK: %[[ZERO:.*]] = giga.fill 0.000000e+00 : tensor<2x2x3x2xf32>
// CHECK: %[[DATT:.*]] = giga.concat %[[DS0]], %[[ZERO]] along 3
// CHECK: %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = giga.attention_grad %[[DATT]], %[[Q]], %[[Q]], %[[Q]], %[[MASK]] {scale = 5.000000e-01 : f64}
// CHECK: %[[SUM:.*]] = giga.add %[[DQ]], %[[DK]]
// CHECK: %[[DQKV:.*]] = giga.add %[[SUM]], %[[DV]]
// CHECK: %[[DR:.*]] = giga.transpose %[[DQKV]] [0, 2, 1, 3]
// CHECK: %[[DA:.*]] = giga.reshape %[[DR]] : tensor<2x3x2x4xf32> -> tensor<2x3x8xf32>
// CHECK: %[[DN:.*]] = giga.gelu_grad %[[DA]], %[[N]] tanh
// CHECK: %[[DH:.*]], %[[DG:.*]], %[[DB:.*]] = giga.layernorm_grad %[[DN]], %[[H]], %{{.*}} :
// The broadcast position embedding sums over the batch.
// CHECK: %[[DP:.*]] = giga.reduce_sum %[[DH]] : tensor<2x3x8xf32> -> tensor<3x8xf32>
// CHECK: %[[DWPE:.*]] = giga.embedding_grad %[[DP]], %[[POS]] : (tensor<3x8xf32>, tensor<3xi32>) -> tensor<3x8xf32>
// CHECK: %[[DWTE:.*]] = giga.embedding_grad %[[DH]], %{{.*}} : (tensor<2x3x8xf32>, tensor<2x3xi32>) -> tensor<10x8xf32>
// CHECK: giga.param_grad "b", %[[DB]]
// CHECK: giga.param_grad "g", %[[DG]]
// CHECK: giga.param_grad "wpe", %[[DWPE]]
// CHECK: giga.param_grad "wte", %[[DWTE]]
func.func @ops(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %table = giga.param "wte" normal std 0.02 : tensor<10x8xf32>
  %wpe = giga.param "wpe" normal std 0.02 : tensor<3x8xf32>
  %g = giga.param "g" ones : tensor<8xf32>
  %b = giga.param "b" zeros : tensor<8xf32>
  %pos = giga.iota : tensor<3xi32>
  %tok = giga.embedding %table[%x] : (tensor<10x8xf32>, tensor<2x3xi32>) -> tensor<2x3x8xf32>
  %p = giga.embedding %wpe[%pos] : (tensor<3x8xf32>, tensor<3xi32>) -> tensor<3x8xf32>
  %h = giga.add %tok, %p : (tensor<2x3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  %n = giga.layernorm %h, %g, %b : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %a = giga.gelu %n tanh : tensor<2x3x8xf32>
  %r = giga.reshape %a : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %q = giga.transpose %r [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %mask = giga.causal_mask : tensor<3x3xf32>
  %att = giga.attention %q, %q, %q, %mask {scale = 0.5 : f64} : (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<3x3xf32>) -> tensor<2x2x3x4xf32>
  %s:2 = giga.split %att along 3 : tensor<2x2x3x4xf32> -> tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>
  %sm = giga.softmax %s#0 : tensor<2x2x3x2xf32>
  %back = giga.transpose %sm [0, 2, 1, 3] : tensor<2x2x3x2xf32> -> tensor<2x3x2x2xf32>
  %flat = giga.reshape %back : tensor<2x3x2x2xf32> -> tensor<2x3x4xf32>
  %w = giga.param "head" normal std 0.02 : tensor<4x10xf32>
  %logits = giga.matmul %flat, %w : (tensor<2x3x4xf32>, tensor<4x10xf32>) -> tensor<2x3x10xf32>
  %loss = giga.cross_entropy %logits, %t : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A repeated block: the forward stacks what its backward reads (the gelu
// input and the block input), the backward runs in reverse over those
// slices, declares the layer's weight again, and sums the gradient of a
// weight shared by all layers in a carried accumulator. The tied embedding
// gets the head's gradient and the lookup's, summed.
// CHECK-LABEL: func.func @repeat
// CHECK: %[[WTE:.*]] = giga.param "wte"
// CHECK: %[[SHARED:.*]] = giga.param "shared"
// CHECK: %[[FWD:.*]]:3 = giga.repeat 3 "h"(%{{.*}} : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>, tensor<3x2x3x4xf32>, tensor<3x2x3x4xf32>
// CHECK-NEXT: ^bb0(%[[IN:.*]]: tensor<2x3x4xf32>):
// CHECK: %[[S:.*]] = giga.bias_add %{{.*}}, %[[SHARED]]
// CHECK: %[[G:.*]] = giga.gelu %[[S]]
// CHECK: giga.yield %[[G]], %[[S]], %[[IN]] : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
// CHECK: %[[HEADGRAD:.*]] = giga.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<6x10xf32>, tensor<6x4xf32>) -> tensor<10x4xf32>
// CHECK: %[[ACC:.*]] = giga.fill 0.000000e+00 : tensor<4xf32>
// CHECK: %[[BWD:.*]]:2 = giga.repeat 3 "h" reverse(%{{.*}}, %[[ACC]] : tensor<2x3x4xf32>, tensor<4xf32>) slices(%[[FWD]]#1, %[[FWD]]#2 : tensor<3x2x3x4xf32>, tensor<3x2x3x4xf32>) -> tensor<2x3x4xf32>, tensor<4xf32> {
// CHECK-NEXT: ^bb0(%[[DOUT:.*]]: tensor<2x3x4xf32>, %[[SUMIN:.*]]: tensor<4xf32>, %[[SSLICE:.*]]: tensor<2x3x4xf32>, %[[INSLICE:.*]]: tensor<2x3x4xf32>):
// CHECK: %[[W:.*]] = giga.param "w" normal std 1.000000e-01 : tensor<4x4xf32>
// CHECK: %[[DS:.*]] = giga.gelu_grad %[[DOUT]], %[[SSLICE]]
// CHECK: %[[DSHARED:.*]] = giga.reduce_sum %[[DS]]
// CHECK: %[[DIN:.*]] = giga.matmul %[[DS]], %[[W]] : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
// CHECK: giga.reshape %[[INSLICE]]
// CHECK: giga.param_grad "w", %{{.*}} : tensor<4x4xf32>
// CHECK: %[[SUMOUT:.*]] = giga.add %[[SUMIN]], %[[DSHARED]]
// CHECK: giga.yield %[[DIN]], %[[SUMOUT]]
// CHECK: %[[DLOOKUP:.*]] = giga.embedding_grad %[[BWD]]#0
// CHECK: %[[DWTE:.*]] = giga.add %[[HEADGRAD]], %[[DLOOKUP]]
// CHECK: giga.param_grad "shared", %[[BWD]]#1 : tensor<4xf32>
// CHECK: giga.param_grad "wte", %[[DWTE]] : tensor<10x4xf32>
// CHECK-NOT: giga.param_grad

// With recomputation the forward saves only each layer's input and the
// backward computes the block again from it.
// RECOMPUTE-LABEL: func.func @repeat
// RECOMPUTE: %[[FWD:.*]]:2 = giga.repeat 3 "h"(%{{.*}} : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>, tensor<3x2x3x4xf32>
// RECOMPUTE: giga.repeat 3 "h" reverse({{.*}}) slices(%[[FWD]]#1 : tensor<3x2x3x4xf32>)
// RECOMPUTE-NEXT: ^bb0(%[[DOUT:.*]]: tensor<2x3x4xf32>, %{{.*}}: tensor<4xf32>, %[[IN:.*]]: tensor<2x3x4xf32>):
// RECOMPUTE: %[[W:.*]] = giga.param "w"
// RECOMPUTE: %[[M:.*]] = giga.matmul %[[IN]], %[[W]] {transpose_rhs}
// RECOMPUTE: %[[S:.*]] = giga.bias_add %[[M]]
// RECOMPUTE: giga.gelu_grad %[[DOUT]], %[[S]]
func.func @repeat(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %table = giga.param "wte" normal std 0.02 : tensor<10x4xf32>
  %shared = giga.param "shared" ones : tensor<4xf32>
  %e = giga.embedding %table[%x] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %y = giga.repeat 3 "h" (%e : tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  ^bb0(%h: tensor<2x3x4xf32>):
    %w = giga.param "w" normal std 0.1 : tensor<4x4xf32>
    %m = giga.matmul %h, %w {transpose_rhs} : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
    %s = giga.bias_add %m, %shared : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %a = giga.gelu %s : tensor<2x3x4xf32>
    giga.yield %a : tensor<2x3x4xf32>
  }
  %logits = giga.matmul %y, %table {transpose_rhs} : (tensor<2x3x4xf32>, tensor<10x4xf32>) -> tensor<2x3x10xf32>
  %loss = giga.cross_entropy %logits, %t : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Values that do not depend on a parameter get no gradient, and unused
// parameters none either.
// CHECK-LABEL: func.func @inactive
// CHECK: giga.fill 1.000000e+00 {giga.loss_seed}
// CHECK-NOT: giga.matmul
// CHECK: %[[DROWS:.*]] = giga.cross_entropy_grad
// CHECK: %[[ZERO:.*]] = giga.fill 0.000000e+00 : tensor<5x10xf32>
// CHECK: %[[DB:.*]] = giga.concat %[[DROWS]], %[[ZERO]] along 0
// CHECK: %[[DBIAS:.*]] = giga.reduce_sum %[[DB]] : tensor<10x10xf32> -> tensor<10xf32>
// CHECK-NOT: giga.matmul
// CHECK: giga.param_grad "bias", %[[DBIAS]]
// CHECK-NOT: giga.param_grad
// CHECK: return
func.func @inactive(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %unused = giga.param "unused" ones : tensor<4xf32>
  %bias = giga.param "bias" zeros : tensor<10xf32>
  %mask = giga.causal_mask : tensor<10x10xf32>
  %const = giga.matmul %mask, %mask : (tensor<10x10xf32>, tensor<10x10xf32>) -> tensor<10x10xf32>
  %b = giga.bias_add %const, %bias : (tensor<10x10xf32>, tensor<10xf32>) -> tensor<10x10xf32>
  %rows:2 = giga.split %b along 0 : tensor<10x10xf32> -> tensor<5x10xf32>, tensor<5x10xf32>
  %targets = giga.iota : tensor<5xi32>
  %loss = giga.cross_entropy %rows#0, %targets : (tensor<5x10xf32>, tensor<5xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// RMSNorm's VJP: one rmsnorm_grad from the saved input and the weight; the
// weight gets its gradient, and no bias exists to get one.
// CHECK-LABEL: func.func @rmsnorm
// CHECK: %[[G:.*]] = giga.param "g" ones : tensor<4xf32>
// CHECK: %[[E:.*]] = giga.embedding {{.*}} {giga.saved}
// CHECK: %[[N:.*]] = giga.rmsnorm %[[E]], %[[G]] {giga.saved}
// CHECK: %[[DL:.*]] = giga.cross_entropy_grad
// CHECK: %[[DN:.*]] = giga.matmul %[[DL]], %{{.*}} : (tensor<2x3x10xf32>, tensor<10x4xf32>) -> tensor<2x3x4xf32>
// CHECK: %[[DX:.*]], %[[DG:.*]] = giga.rmsnorm_grad %[[DN]], %[[E]], %[[G]] : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>)
// CHECK: giga.embedding_grad %[[DX]]
// CHECK: giga.param_grad "g", %[[DG]] : tensor<4xf32>
func.func @rmsnorm(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %table = giga.param "emb" normal std 0.02 : tensor<10x4xf32>
  %g = giga.param "g" ones : tensor<4xf32>
  %e = giga.embedding %table[%x] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %n = giga.rmsnorm %e, %g : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %l = giga.matmul %n, %table {transpose_rhs} : (tensor<2x3x4xf32>, tensor<10x4xf32>) -> tensor<2x3x10xf32>
  %loss = giga.cross_entropy %l, %t : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The fused head and loss: its gradient computes the loss again with the
// gradients of x and of the tied wte; wte's adds to the lookup's.
// CHECK-LABEL: func.func @fused_head
// CHECK: giga.linear_cross_entropy {{.*}} {chunk = 4 : i64}
// CHECK: %[[SEED:.*]] = giga.fill 1.000000e+00 {giga.loss_seed}
// CHECK: %{{.*}}, %[[DX:.*]], %[[DW:.*]] = giga.linear_cross_entropy_grad %[[SEED]], %{{.*}}, %{{.*}}, %{{.*}} {chunk = 4 : i64} : (tensor<f32>, tensor<2x3x4xf32>, tensor<10x4xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<2x3x4xf32>, tensor<10x4xf32>)
// CHECK: %[[LOOKUP:.*]] = giga.embedding_grad %[[DX]]
// CHECK: %[[SUM:.*]] = giga.add %[[DW]], %[[LOOKUP]]
// CHECK: giga.param_grad "wte", %[[SUM]]
func.func @fused_head(%ids: tensor<2x3xi32>, %targets: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %wte = giga.param "wte" normal std 0.02 : tensor<10x4xf32>
  %x = giga.embedding %wte[%ids] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %loss = giga.linear_cross_entropy %x, %wte, %targets {chunk = 4} : (tensor<2x3x4xf32>, tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
