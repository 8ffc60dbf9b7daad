// RUN: giga-opt %s --split-input-file | giga-opt --split-input-file | FileCheck %s
// Every op prints in a form that parses back to the same op.

// CHECK-LABEL: func.func @params
func.func @params() -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: giga.param "w" normal std 2.000000e-02 : tensor<4x8xf32>
  %w = giga.param "w" normal std 0.02 : tensor<4x8xf32>
  // CHECK: giga.param "g" ones : tensor<8xf32>
  %g = giga.param "g" ones : tensor<8xf32>
  // CHECK: giga.param "b" zeros : tensor<8xf32>
  %b = giga.param "b" zeros : tensor<8xf32>
  return %w, %g, %b : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// CHECK-LABEL: func.func @embedding
func.func @embedding(%table: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  // CHECK: giga.embedding %{{.*}}[%{{.*}}] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %0 = giga.embedding %table[%ids] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @iota
func.func @iota() -> tensor<5xi32> {
  // CHECK: giga.iota : tensor<5xi32>
  %0 = giga.iota : tensor<5xi32>
  return %0 : tensor<5xi32>
}

// -----

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>, %a: tensor<2x4x3xf32>, %b: tensor<2x5x4xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x3xf32>) {
  // CHECK: giga.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  %0 = giga.matmul %x, %w {transpose_rhs} : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  // CHECK: giga.matmul %{{.*}}, %{{.*}} {transpose_lhs, transpose_rhs} : (tensor<2x4x3xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
  %1 = giga.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<2x4x3xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
  // CHECK: giga.matmul %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2x4x3xf32>) -> tensor<2x3x3xf32>
  %2 = giga.matmul %x, %a : (tensor<2x3x4xf32>, tensor<2x4x3xf32>) -> tensor<2x3x3xf32>
  return %0, %1, %2 : tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x3xf32>
}

// -----

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x3x4xf32>, %p: tensor<3x4xf32>, %b: tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: giga.add %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %0 = giga.add %x, %x : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: giga.add %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %1 = giga.add %x, %p : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: giga.bias_add %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %2 = giga.bias_add %x, %b : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: giga.layernorm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 5.000000e-01 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %3 = giga.layernorm %x, %b, %b {epsilon = 0.5 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: giga.rmsnorm %{{.*}}, %{{.*}} {epsilon = 2.500000e-01 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %rms = giga.rmsnorm %x, %b {epsilon = 0.25 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: giga.gelu %{{.*}} : tensor<2x3x4xf32>
  %4 = giga.gelu %x : tensor<2x3x4xf32>
  // CHECK: giga.gelu %{{.*}} tanh : tensor<2x3x4xf32>
  %5 = giga.gelu %x tanh : tensor<2x3x4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x5x4xf32>, %v: tensor<2x3x5x4xf32>) -> (tensor<2x3x5x4xf32>, tensor<2x3x5x5xf32>) {
  // CHECK: giga.causal_mask : tensor<5x5xf32>
  %mask = giga.causal_mask : tensor<5x5xf32>
  // CHECK: giga.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f64} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>, tensor<5x5xf32>) -> tensor<2x3x5x4xf32>
  %0 = giga.attention %q, %k, %v, %mask {scale = 0.5 : f64} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>, tensor<5x5xf32>) -> tensor<2x3x5x4xf32>
  // The pieces, unfused: scores, softmax.
  // CHECK: giga.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x5xf32>
  %s = giga.matmul %q, %k {transpose_rhs} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x5xf32>
  // CHECK: giga.add %{{.*}}, %{{.*}} : (tensor<2x3x5x5xf32>, tensor<5x5xf32>) -> tensor<2x3x5x5xf32>
  %m = giga.add %s, %mask : (tensor<2x3x5x5xf32>, tensor<5x5xf32>) -> tensor<2x3x5x5xf32>
  // CHECK: giga.softmax %{{.*}} : tensor<2x3x5x5xf32>
  %p = giga.softmax %m : tensor<2x3x5x5xf32>
  // CHECK: giga.softmax %{{.*}} {axis = 1 : i64} : tensor<2x3x5x5xf32>
  %p1 = giga.softmax %p {axis = 1} : tensor<2x3x5x5xf32>
  return %0, %p1 : tensor<2x3x5x4xf32>, tensor<2x3x5x5xf32>
}

// One query over six keys: a decode step over a KV cache.
// CHECK-LABEL: func.func @attention_over_keys
func.func @attention_over_keys(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x6x4xf32>, %mask: tensor<1x6xf32>) -> tensor<1x2x1x4xf32> {
  // CHECK: giga.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f64} : (tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x6xf32>) -> tensor<1x2x1x4xf32>
  %0 = giga.attention %q, %k, %k, %mask {scale = 0.5 : f64} : (tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x6xf32>) -> tensor<1x2x1x4xf32>
  return %0 : tensor<1x2x1x4xf32>
}

// -----

// CHECK-LABEL: func.func @loss
func.func @loss(%logits: tensor<2x3x7xf32>, %targets: tensor<2x3xi32>) -> tensor<f32> {
  // CHECK: giga.cross_entropy %{{.*}}, %{{.*}} : (tensor<2x3x7xf32>, tensor<2x3xi32>) -> tensor<f32>
  %0 = giga.cross_entropy %logits, %targets : (tensor<2x3x7xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func.func @fused_loss
func.func @fused_loss(%x: tensor<2x3x4xf32>, %w: tensor<7x4xf32>, %targets: tensor<2x3xi32>, %grad: tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>) {
  // CHECK: giga.linear_cross_entropy %{{.*}}, %{{.*}}, %{{.*}} {chunk = 3 : i64} : (tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  %loss = giga.linear_cross_entropy %x, %w, %targets {chunk = 3} : (tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  // CHECK: giga.linear_cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {chunk = 3 : i64} : (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>)
  %again, %dx, %dw = giga.linear_cross_entropy_grad %grad, %x, %w, %targets {chunk = 3} : (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>)
  return %loss, %again, %dx, %dw : tensor<f32>, tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x3x2xf32>, tensor<2x3x2xf32>) {
  // CHECK: giga.reshape %{{.*}} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %0 = giga.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: giga.transpose %{{.*}} [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %1 = giga.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  // CHECK: giga.split %{{.*}} along 2 : tensor<2x3x4xf32> -> tensor<2x3x2xf32>, tensor<2x3x2xf32>
  %2:2 = giga.split %x along 2 : tensor<2x3x4xf32> -> tensor<2x3x2xf32>, tensor<2x3x2xf32>
  return %0, %1, %2#0, %2#1 : tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x3x2xf32>, tensor<2x3x2xf32>
}

// -----

// CHECK-LABEL: func.func @repeat
func.func @repeat(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>) {
  // CHECK: giga.repeat 3 "h"(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>, tensor<4xf32> {
  // CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<2x4xf32>, %[[B:.*]]: tensor<4xf32>):
  // CHECK: giga.param "w" normal std 1.000000e-01 : tensor<4x4xf32>
  // CHECK: giga.yield %{{.*}}, %[[B]] : tensor<2x4xf32>, tensor<4xf32>
  %0:2 = giga.repeat 3 "h" (%x, %y : tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>, tensor<4xf32> {
  ^bb0(%h: tensor<2x4xf32>, %b: tensor<4xf32>):
    %w = giga.param "w" normal std 0.1 : tensor<4x4xf32>
    %m = giga.matmul %h, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %n = giga.bias_add %m, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    giga.yield %n, %b : tensor<2x4xf32>, tensor<4xf32>
  }
  return %0#0, %0#1 : tensor<2x4xf32>, tensor<4xf32>
}

// -----

// A scan: stacked results, then a reverse repeat that slices them.
// CHECK-LABEL: func.func @repeat_scan
func.func @repeat_scan(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[FWD:.*]]:2 = giga.repeat 3 "h"(%{{.*}} : tensor<4xf32>) -> tensor<4xf32>, tensor<3x4xf32> {
  %0:2 = giga.repeat 3 "h" (%x : tensor<4xf32>) -> tensor<4xf32>, tensor<3x4xf32> {
  ^bb0(%h: tensor<4xf32>):
    %g = giga.gelu %h : tensor<4xf32>
    giga.yield %g, %h : tensor<4xf32>, tensor<4xf32>
  }
  // CHECK: giga.repeat 3 "h" reverse(%{{.*}} : tensor<4xf32>) slices(%[[FWD]]#1 : tensor<3x4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<4xf32>, %{{.*}}: tensor<4xf32>):
  %1 = giga.repeat 3 "h" reverse (%0#0 : tensor<4xf32>) slices(%0#1 : tensor<3x4xf32>) -> tensor<4xf32> {
  ^bb0(%g: tensor<4xf32>, %h: tensor<4xf32>):
    %d = giga.gelu_grad %g, %h : tensor<4xf32>
    giga.yield %d : tensor<4xf32>
  }
  // A repeat with nothing carried.
  // CHECK: giga.repeat 2 "h"() {
  giga.repeat 2 "h" () {
    %w = giga.param "w" zeros : tensor<4xf32>
    giga.param_grad "w", %w : tensor<4xf32>
  }
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @backward_ops
func.func @backward_ops(%g3: tensor<2x3x4xf32>, %x: tensor<2x3x4xf32>, %w: tensor<4xf32>, %ids: tensor<2x3xi32>,
                        %q: tensor<1x2x3x4xf32>, %mask: tensor<3x3xf32>, %loss_grad: tensor<f32>, %logits: tensor<2x3x7xf32>) {
  // CHECK: giga.fill 1.000000e+00 : tensor<f32>
  %seed = giga.fill 1.0 : tensor<f32>
  // CHECK: giga.reduce_sum %{{.*}} : tensor<2x3x4xf32> -> tensor<4xf32>
  %0 = giga.reduce_sum %g3 : tensor<2x3x4xf32> -> tensor<4xf32>
  // CHECK: giga.concat %{{.*}}, %{{.*}} along 2 : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x8xf32>
  %1 = giga.concat %g3, %x along 2 : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x8xf32>
  // CHECK: giga.embedding_grad %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<10x4xf32>
  %2 = giga.embedding_grad %g3, %ids : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<10x4xf32>
  // CHECK: giga.layernorm_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %3:3 = giga.layernorm_grad %g3, %x, %w : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: giga.rmsnorm_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>)
  %rms:2 = giga.rmsnorm_grad %g3, %x, %w : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>)
  // CHECK: giga.gelu_grad %{{.*}}, %{{.*}} tanh : tensor<2x3x4xf32>
  %4 = giga.gelu_grad %g3, %x tanh : tensor<2x3x4xf32>
  // CHECK: giga.softmax_grad %{{.*}}, %{{.*}} : tensor<2x3x4xf32>
  %5 = giga.softmax_grad %g3, %x : tensor<2x3x4xf32>
  // CHECK: giga.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<3x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>)
  %6:3 = giga.attention_grad %q, %q, %q, %q, %mask {scale = 0.5 : f64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<3x3xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>)
  // CHECK: giga.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<f32>, tensor<2x3x7xf32>, tensor<2x3xi32>) -> tensor<2x3x7xf32>
  %7 = giga.cross_entropy_grad %loss_grad, %logits, %ids : (tensor<f32>, tensor<2x3x7xf32>, tensor<2x3xi32>) -> tensor<2x3x7xf32>
  // CHECK: giga.param_grad "ln.weight", %{{.*}} : tensor<4xf32>
  giga.param_grad "ln.weight", %0 : tensor<4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @optimizer
func.func @optimizer(%step: tensor<i64>) {
  // CHECK: giga.store {
  giga.store {
    // CHECK: %[[NORM:.*]] = giga.grad_norm : tensor<f32>
    %norm = giga.grad_norm : tensor<f32>
    // CHECK: %[[SCALE:.*]] = giga.clip_scale %[[NORM]] {max_norm = 1.000000e+00 : f64} : tensor<f32>
    %scale = giga.clip_scale %norm {max_norm = 1.0 : f64} : tensor<f32>
    // CHECK: %[[LR:.*]] = giga.lr_schedule %{{.*}} {decay_steps = 90 : i64, learning_rate = 6.000000e-04 : f64, warmup_steps = 10 : i64} : tensor<f32>
    %lr = giga.lr_schedule %step {learning_rate = 6.0e-4 : f64, warmup_steps = 10 : i64, decay_steps = 90 : i64} : tensor<f32>
    // CHECK: giga.adamw "wte.weight" lr(%[[LR]]) scale(%[[SCALE]]) step(%{{.*}}) {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, epsilon = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64} : tensor<10x4xf32>
    giga.adamw "wte.weight" lr(%lr) scale(%scale) step(%step) {beta1 = 0.9 : f64, beta2 = 0.95 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<10x4xf32>
    // CHECK: giga.sgd "ln.bias" lr(%[[LR]]) scale(%[[SCALE]]) step(%{{.*}}) {momentum = 9.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
    giga.sgd "ln.bias" lr(%lr) scale(%scale) step(%step) {momentum = 0.9 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  }
  return
}

// -----

// CHECK-LABEL: func.func @generation
func.func @generation(%start: tensor<1xi32>, %k: tensor<1x2x3x4xf32>, %x: tensor<1x3x4xf32>) {
  // CHECK: giga.positions %{{.*}} : tensor<1xi32> -> tensor<3xi32>
  %0 = giga.positions %start : tensor<1xi32> -> tensor<3xi32>
  // CHECK: giga.position_mask %{{.*}} : tensor<1xi32> -> tensor<3x8xf32>
  %1 = giga.position_mask %start : tensor<1xi32> -> tensor<3x8xf32>
  // CHECK: giga.kv_cache "attn.k" %{{.*}} at %{{.*}} : tensor<1x2x3x4xf32>, tensor<1xi32> -> tensor<1x2x8x4xf32>
  %2 = giga.kv_cache "attn.k" %k at %start : tensor<1x2x3x4xf32>, tensor<1xi32> -> tensor<1x2x8x4xf32>
  // CHECK: giga.slice %{{.*}} along 1 from 2 : tensor<1x3x4xf32> -> tensor<1x1x4xf32>
  %3 = giga.slice %x along 1 from 2 : tensor<1x3x4xf32> -> tensor<1x1x4xf32>
  return
}
