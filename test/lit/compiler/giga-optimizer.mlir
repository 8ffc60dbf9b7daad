// RUN: giga-opt %s --split-input-file --giga-autodiff --giga-optimizer | FileCheck %s
// RUN: giga-opt %s --split-input-file --giga-autodiff --giga-optimizer=optimizer=sgd | FileCheck %s --check-prefix=SGD

// The step number becomes the last argument; the update runs in the store:
// global norm, clip factor, schedule, then AdamW per parameter, with weight
// decay on rank >= 2 only. Per-layer parameters update inside a repeat.
// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[STEP:[a-z0-9]+]]: tensor<i64> {giga.step}
// CHECK: giga.param_grad "w"
// CHECK: giga.store {
// CHECK-NEXT: %[[NORM:.*]] = giga.grad_norm : tensor<f32>
// CHECK-NEXT: %[[SCALE:.*]] = giga.clip_scale %[[NORM]] {max_norm = 5.000000e-01 : f64} : tensor<f32>
// CHECK-NEXT: %[[LR:.*]] = giga.lr_schedule %[[STEP]] {decay_steps = 90 : i64, learning_rate = 3.000000e-03 : f64, warmup_steps = 10 : i64} : tensor<f32>
// CHECK-NEXT: giga.adamw "emb" lr(%[[LR]]) scale(%[[SCALE]]) step(%[[STEP]]) {beta1 = 8.000000e-01 : f64, beta2 = 0.98999999999999999 : f64, epsilon = 9.9999999999999995E-7 : f64, weight_decay = 2.000000e-01 : f64} : tensor<10x4xf32>
// CHECK-NEXT: giga.adamw "b" lr(%[[LR]]) scale(%[[SCALE]]) step(%[[STEP]]) {{{.*}}weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK-NEXT: giga.repeat 2 "h"() {
// CHECK-NEXT: giga.adamw "w" {{.*}}weight_decay = 2.000000e-01 : f64} : tensor<4x4xf32>
// CHECK-NEXT: giga.adamw "g" {{.*}}weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: return

// SGD-LABEL: func.func @step
// SGD: giga.sgd "emb" lr(%{{.*}}) scale(%{{.*}}) step(%{{.*}}) {momentum = 8.500000e-01 : f64, weight_decay = 2.000000e-01 : f64} : tensor<10x4xf32>
// SGD: giga.sgd "b" {{.*}} {momentum = 8.500000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// SGD-NOT: giga.adamw
module attributes {giga.run = {learning_rate = 3.0e-3 : f64, warmup_steps = 10 : i64, num_steps = 100 : i64, max_gradient_norm = 0.5 : f64, weight_decay = 0.2 : f64, adam_beta1 = 0.8 : f64, adam_beta2 = 0.99 : f64, adam_epsilon = 1.0e-6 : f64, momentum = 0.85 : f64}} {
  func.func @step(%x: tensor<2x3xi32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
    %emb = giga.param "emb" normal std 0.02 : tensor<10x4xf32>
    %b = giga.param "b" zeros : tensor<4xf32>
    %e = giga.embedding %emb[%x] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
    %y = giga.repeat 2 "h" (%e : tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
    ^bb0(%h: tensor<2x3x4xf32>):
      %w = giga.param "w" normal std 0.1 : tensor<4x4xf32>
      %g = giga.param "g" ones : tensor<4xf32>
      %m = giga.matmul %h, %w : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
      %n = giga.bias_add %m, %g : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
      giga.yield %n : tensor<2x3x4xf32>
    }
    %z = giga.bias_add %y, %b : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %l = giga.matmul %z, %emb {transpose_rhs} : (tensor<2x3x4xf32>, tensor<10x4xf32>) -> tensor<2x3x10xf32>
    %loss = giga.cross_entropy %l, %t : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// The config chooses SGD; without num_steps the decay runs over one step
// after the warmup, and the defaults fill the rest.
// CHECK-LABEL: func.func @defaults
// CHECK: giga.clip_scale %{{.*}} {max_norm = 1.000000e+00 : f64}
// CHECK: giga.lr_schedule %{{.*}} {decay_steps = 1 : i64, learning_rate = 1.000000e-01 : f64, warmup_steps = 0 : i64}
// CHECK: giga.sgd "w" {{.*}} {momentum = 9.000000e-01 : f64, weight_decay = 1.000000e-01 : f64} : tensor<3x2xf32>
// SGD-LABEL: func.func @defaults
module attributes {giga.run = {learning_rate = 0.1 : f64, optimizer = "sgd"}} {
  func.func @defaults(%x: tensor<3x2xf32>, %t: tensor<3xi32>) -> tensor<f32> attributes {giga.loss} {
    %w = giga.param "w" normal std 0.02 : tensor<3x2xf32>
    %a = giga.add %x, %w : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    %loss = giga.cross_entropy %a, %t : (tensor<3x2xf32>, tensor<3xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
