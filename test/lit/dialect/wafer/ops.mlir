// RUN: giga-opt %s --split-input-file | giga-opt --split-input-file | FileCheck %s
// Every wafer op prints in a form that parses back to the same op.

// CHECK-LABEL: module {
// CHECK: wafer.param "wte.weight" group "" layers 1 "normal" std 2.000000e-02 decay 1.000000e-01 : tensor<16x8xf32>
// CHECK: wafer.param "fc.weight" group "h" layers 3 "normal" std 1.000000e-02 decay 1.000000e-01 : tensor<8x8xf32>
// CHECK: wafer.param "ln.weight" group "h" layers 3 "ones" std 0.000000e+00 decay 0.000000e+00 : tensor<8xf32>
// CHECK: wafer.param "fc.bias" group "h" layers 3 "zeros" std 0.000000e+00 decay 0.000000e+00 : tensor<8xf32>
wafer.param "wte.weight" group "" layers 1 "normal" std 0.02 decay 0.1 : tensor<16x8xf32>
wafer.param "fc.weight" group "h" layers 3 "normal" std 0.01 decay 0.1 : tensor<8x8xf32>
wafer.param "ln.weight" group "h" layers 3 "ones" std 0.0 decay 0.0 : tensor<8xf32>
wafer.param "fc.bias" group "h" layers 3 "zeros" std 0.0 decay 0.0 : tensor<8xf32>

// A kernel run once: streams a top-level parameter in.
// CHECK-LABEL: func.func private @embed(
// CHECK-SAME: attributes {wafer.group = "", wafer.kernel, wafer.layers = 1 : i64}
// CHECK: %[[W:.*]] = wafer.stream_in "wte.weight" : tensor<16x8xf32>
// CHECK: giga.embedding %[[W]][%{{.*}}]
func.func private @embed(%tokens: tensor<2x4xi32>) -> tensor<2x4x8xf32>
    attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %w = wafer.stream_in "wte.weight" : tensor<16x8xf32>
  %x = giga.embedding %w[%tokens] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// A grouped kernel: one carried value, one sliced value, one read by every
// layer; streams its group's weights in and a gradient out.
// CHECK-LABEL: func.func private @block(
// CHECK-SAME: wafer.carried = 1 : i64, wafer.group = "h", wafer.kernel, wafer.layers = 3 : i64, wafer.sliced = 1 : i64
// CHECK: %[[FW:.*]] = wafer.stream_in "fc.weight" : tensor<8x8xf32>
// CHECK: %[[FB:.*]] = wafer.stream_in "fc.bias" : tensor<8xf32>
// CHECK: wafer.stream_out "fc.bias", %[[FB]] : tensor<8xf32>
func.func private @block(%x: tensor<2x4x8xf32>, %slice: tensor<2x4x8xf32>, %shared: tensor<8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>)
    attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64,
                wafer.carried = 1 : i64, wafer.sliced = 1 : i64} {
  %w = wafer.stream_in "fc.weight" : tensor<8x8xf32>
  %b = wafer.stream_in "fc.bias" : tensor<8xf32>
  %m = giga.matmul %x, %w {transpose_rhs} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %y = giga.add %m, %slice : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %z = giga.bias_add %y, %shared : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  wafer.stream_out "fc.bias", %b : tensor<8xf32>
  return %z, %m : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// The program: the once-kernel takes and returns plain values; the grouped
// one takes the sliced operand stacked (3 layers) and stacks its per-layer
// result; the update runs in the store.
// CHECK-LABEL: func.func @program(
// CHECK: %[[X:.*]] = wafer.invoke @embed(%{{.*}}) : (tensor<2x4xi32>) -> tensor<2x4x8xf32>
// CHECK: %{{.*}}:2 = wafer.invoke @block(%[[X]], %{{.*}}, %{{.*}}) : (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>)
// CHECK: wafer.update "adamw" step(%{{.*}}) {accumulation = 2 : i64, beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, decay_steps = 100 : i64, epsilon = 1.000000e-08 : f64, learning_rate = 1.000000e-03 : f64, max_gradient_norm = 1.000000e+00 : f64, min_lr_ratio = 1.000000e-01 : f64, momentum = 0.000000e+00 : f64, warmup_steps = 10 : i64} : tensor<i64>
// CHECK: wafer.update "sgd" step(%{{.*}}) {{{.*}}momentum = 9.000000e-01 : f64{{.*}}} : tensor<i64>
func.func @program(%tokens: tensor<2x4xi32>, %stacked: tensor<3x2x4x8xf32>, %shared: tensor<8xf32>, %step: tensor<i64>)
    -> tensor<3x2x4x8xf32> attributes {wafer.program} {
  %x = wafer.invoke @embed(%tokens) : (tensor<2x4xi32>) -> tensor<2x4x8xf32>
  %y:2 = wafer.invoke @block(%x, %stacked, %shared) : (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>)
  wafer.update "adamw" step(%step) {accumulation = 2 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = 1.0e-3 : f64, max_gradient_norm = 1.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.0 : f64, warmup_steps = 10 : i64} : tensor<i64>
  wafer.update "sgd" step(%step) {accumulation = 1 : i64, beta1 = 0.0 : f64, beta2 = 0.0 : f64, decay_steps = 100 : i64, epsilon = 0.0 : f64, learning_rate = 0.1 : f64, max_gradient_norm = 5.0 : f64, min_lr_ratio = 1.0 : f64, momentum = 0.9 : f64, warmup_steps = 0 : i64} : tensor<i64>
  return %y#1 : tensor<3x2x4x8xf32>
}

// -----

// A grouped kernel's stream takes its group's parameter over a top-level one
// of the same name; a stream of a name only declared at top level finds that.
// CHECK-LABEL: func.func private @grouped_lookup(
// CHECK: wafer.stream_in "w" : tensor<4xf32>
// CHECK: wafer.stream_in "top" : tensor<2xf32>
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<8xf32>
wafer.param "w" group "g" layers 2 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
wafer.param "top" group "" layers 1 "ones" std 0.0 decay 0.0 : tensor<2xf32>
func.func private @grouped_lookup(%x: tensor<4xf32>) -> tensor<4xf32>
    attributes {wafer.kernel, wafer.group = "g", wafer.layers = 2 : i64,
                wafer.carried = 1 : i64, wafer.sliced = 0 : i64} {
  %w = wafer.stream_in "w" : tensor<4xf32>
  %t = wafer.stream_in "top" : tensor<2xf32>
  return %w : tensor<4xf32>
}
// CHECK-LABEL: func.func private @ungrouped_lookup(
// CHECK: wafer.stream_in "w" : tensor<8xf32>
func.func private @ungrouped_lookup() -> tensor<8xf32>
    attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %w = wafer.stream_in "w" : tensor<8xf32>
  return %w : tensor<8xf32>
}
