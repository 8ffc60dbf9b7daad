// RUN: giga-opt %s --split-input-file --giga-train-step-pipeline --wafer-partition | FileCheck %s

// (Errors: wafer-partition-invalid.mlir.)
// An embedding, three repeated linear+gelu blocks and a matmul head: six
// kernels, the block's forward and backward once each whatever the depth.

// The parameter table: grouped per layer for the block; decay only on
// tensors of rank 2 or more.
// CHECK-LABEL: module attributes {giga.run
// CHECK-NEXT: wafer.param "wte.weight" group "" layers 1 "normal" std 2.000000e-02 decay 1.000000e-01 : tensor<16x8xf32>
// CHECK-NEXT: wafer.param "fc.weight" group "h" layers 3 "normal" std 2.000000e-02 decay 1.000000e-01 : tensor<8x8xf32>
// CHECK-NEXT: wafer.param "fc.bias" group "h" layers 3 "zeros" std 0.000000e+00 decay 0.000000e+00 : tensor<8xf32>
// CHECK-NEXT: wafer.param "head.weight" group "" layers 1 "normal" std 1.000000e-02 decay 1.000000e-01 : tensor<16x8xf32>
// CHECK-NOT: wafer.param

// CHECK-LABEL: func.func private @pre.fwd(%{{.*}}: tensor<2x4xi32>) -> tensor<2x4x8xf32>
// CHECK-SAME: attributes {wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK-NEXT: %[[W:.*]] = wafer.stream_in "wte.weight" : tensor<16x8xf32>
// CHECK-NEXT: %[[E:.*]] = giga.embedding %[[W]][%{{.*}}]
// CHECK-NEXT: return %[[E]]

// The forward block: the carried activation in, the carried activation and
// two per-layer saved tensors (bias_add's output, the block input) out.
// CHECK-LABEL: func.func private @h.fwd(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>)
// CHECK-SAME: attributes {wafer.carried = 1 : i64, wafer.group = "h", wafer.kernel, wafer.layers = 3 : i64, wafer.sliced = 0 : i64} {
// CHECK-DAG: %[[B:.*]] = wafer.stream_in "fc.bias" : tensor<8xf32>
// CHECK-DAG: %[[FW:.*]] = wafer.stream_in "fc.weight" : tensor<8x8xf32>
// CHECK: %[[M:.*]] = giga.matmul %[[X]], %[[FW]] {transpose_rhs}
// CHECK-NEXT: %[[Y:.*]] = giga.bias_add %[[M]], %[[B]]
// CHECK-NEXT: %[[G:.*]] = giga.gelu %[[Y]]
// CHECK-NEXT: return %[[G]], %[[Y]], %[[X]]
// CHECK-NOT: wafer.stream_out
// CHECK: }

// CHECK-LABEL: func.func private @post.fwd(%{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x4xi32>) -> (tensor<2x4x16xf32>, tensor<f32>)
// CHECK-SAME: attributes {wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK: wafer.stream_in "head.weight" : tensor<16x8xf32>
// CHECK: giga.matmul
// CHECK: giga.cross_entropy

// The backward kernels: the loss seed is recomputed in post.bwd, weights are
// streamed in again, each gradient is streamed out right where it is made.
// CHECK-LABEL: func.func private @post.bwd(%{{.*}}: tensor<2x4x16xf32>, %{{.*}}: tensor<2x4xi32>, %{{.*}}: tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-SAME: attributes {wafer.backward, wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK: wafer.stream_in "head.weight" : tensor<16x8xf32>
// CHECK: giga.fill 1.000000e+00 {giga.loss_seed}
// CHECK: giga.cross_entropy_grad
// CHECK: %[[HG:.*]] = giga.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT: wafer.stream_out "head.weight", %[[HG]] : tensor<16x8xf32>

// CHECK-LABEL: func.func private @h.bwd(%{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-SAME: attributes {wafer.backward, wafer.carried = 1 : i64, wafer.group = "h", wafer.kernel, wafer.layers = 3 : i64, wafer.reverse, wafer.sliced = 2 : i64} {
// fc.bias is not needed to differentiate the block, so it is not streamed in.
// CHECK-NOT: wafer.stream_in "fc.bias"
// CHECK: wafer.stream_in "fc.weight" : tensor<8x8xf32>
// CHECK-NOT: wafer.stream_in
// CHECK: giga.gelu_grad
// CHECK: wafer.stream_out "fc.bias", %{{.*}} : tensor<8xf32>
// CHECK-NEXT: wafer.stream_out "fc.weight", %{{.*}} : tensor<8x8xf32>
// CHECK-NEXT: return

// CHECK-LABEL: func.func private @pre.bwd(%{{.*}}: tensor<2x4x8xf32>, %{{.*}}: tensor<2x4xi32>)
// CHECK-SAME: attributes {wafer.backward, wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK-NOT: wafer.stream_in
// CHECK: %[[EG:.*]] = giga.embedding_grad
// CHECK-NEXT: wafer.stream_out "wte.weight", %[[EG]] : tensor<16x8xf32>

// The program: six invocations in order; the grouped ones stack their
// per-layer results (3 layers) and the backward block takes them as slices;
// nothing but invocations and the store's update is left.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME: %[[TOK:[^:]*]]: tensor<2x4xi32>, %[[TGT:[^:]*]]: tensor<2x4xi32>, %[[STEP:[^:]*]]: tensor<i64> {giga.step}) -> tensor<f32>
// CHECK-SAME: attributes {giga.loss, wafer.program} {
// CHECK-NEXT: %[[E0:.*]] = wafer.invoke @pre.fwd(%[[TOK]]) : (tensor<2x4xi32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[H:.*]]:3 = wafer.invoke @h.fwd(%[[E0]]) : (tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>, tensor<3x2x4x8xf32>)
// CHECK-NEXT: %[[P:.*]]:2 = wafer.invoke @post.fwd(%[[H]]#0, %[[TGT]])
// CHECK-NEXT: %[[PB:.*]] = wafer.invoke @post.bwd(%[[P]]#0, %[[TGT]], %[[H]]#0)
// CHECK-NEXT: %[[HB:.*]] = wafer.invoke @h.bwd(%[[PB]], %[[H]]#1, %[[H]]#2) : (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>, tensor<3x2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: wafer.invoke @pre.bwd(%[[HB]], %[[TOK]]) : (tensor<2x4x8xf32>, tensor<2x4xi32>) -> ()
// CHECK-NEXT: wafer.update "adamw" step(%[[STEP]]) {accumulation = 1 : i64, beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, decay_steps = 20 : i64, epsilon = 1.000000e-08 : f64, learning_rate = 1.000000e-02 : f64, max_gradient_norm = 1.000000e+00 : f64, min_lr_ratio = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, warmup_steps = 0 : i64} : tensor<i64>
// CHECK-NEXT: return %[[P]]#1 : tensor<f32>
// CHECK-NEXT: }
// CHECK-NOT: giga.param
// CHECK-NOT: giga.store

module attributes {giga.run = {learning_rate = 1.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64}} {
  func.func @mlp(%tokens: tensor<2x4xi32>, %targets: tensor<2x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
    %h = giga.repeat 3 "h"(%x : tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
    ^bb0(%a: tensor<2x4x8xf32>):
      %w = giga.param "fc.weight" normal std 0.02 : tensor<8x8xf32>
      %b = giga.param "fc.bias" zeros : tensor<8xf32>
      %m = giga.matmul %a, %w {transpose_rhs} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
      %y = giga.bias_add %m, %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
      %g = giga.gelu %y : tensor<2x4x8xf32>
      giga.yield %g : tensor<2x4x8xf32>
    }
    %head = giga.param "head.weight" normal std 0.01 : tensor<16x8xf32>
    %logits = giga.matmul %h, %head {transpose_rhs} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
    %loss = giga.cross_entropy %logits, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Without a repeat the step is one forward and one backward kernel, "body".
// The tied embedding is streamed once per kernel and gets one gradient, the
// sum of the lookup's and the head's. SGD from giga.run.

// CHECK-LABEL: module attributes {giga.run
// CHECK-NEXT: wafer.param "wte.weight" group "" layers 1 "normal" std 2.000000e-02 decay 5.000000e-02 : tensor<16x8xf32>
// CHECK-NEXT: wafer.param "head.bias" group "" layers 1 "zeros" std 0.000000e+00 decay 0.000000e+00 : tensor<16xf32>
// CHECK-NOT: wafer.param
// CHECK-LABEL: func.func private @body.fwd(%{{.*}}: tensor<2x4xi32>, %{{.*}}: tensor<2x4xi32>) -> (tensor<2x4x8xf32>, tensor<2x4x16xf32>, tensor<f32>)
// CHECK-SAME: attributes {wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK-COUNT-2: wafer.stream_in
// CHECK-NOT: wafer.stream_in
// CHECK-NOT: wafer.stream_out
// CHECK: return
// CHECK-LABEL: func.func private @body.bwd(
// CHECK-SAME: attributes {wafer.backward, wafer.group = "", wafer.kernel, wafer.layers = 1 : i64} {
// CHECK: wafer.stream_in "wte.weight"
// CHECK-NOT: wafer.stream_in
// CHECK: wafer.stream_out "head.bias", %{{.*}} : tensor<16xf32>
// CHECK: %[[SUM:.*]] = giga.add
// CHECK-NEXT: wafer.stream_out "wte.weight", %[[SUM]] : tensor<16x8xf32>
// CHECK-LABEL: func.func @linear(
// CHECK-SAME: wafer.program
// CHECK-NEXT: %[[F:.*]]:3 = wafer.invoke @body.fwd(
// CHECK-NEXT: wafer.invoke @body.bwd(%[[F]]#1, %{{.*}}, %[[F]]#0, %{{.*}}) : (tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4x8xf32>, tensor<2x4xi32>) -> ()
// CHECK-NEXT: wafer.update "sgd" step(%{{.*}}) {accumulation = 1 : i64, {{.*}}learning_rate = 5.000000e-02 : f64, {{.*}}momentum = 8.000000e-01 : f64, warmup_steps = 0 : i64} : tensor<i64>
// CHECK-NEXT: return %[[F]]#2
module attributes {giga.run = {learning_rate = 5.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64, optimizer = "sgd", momentum = 0.8 : f64, weight_decay = 0.05 : f64}} {
  func.func @linear(%tokens: tensor<2x4xi32>, %targets: tensor<2x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
    %b = giga.param "head.bias" zeros : tensor<16xf32>
    %logits = giga.matmul %x, %wte {transpose_rhs} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
    %y = giga.bias_add %logits, %b : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
    %loss = giga.cross_entropy %y, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
