// RUN: giga-opt %s --split-input-file --verify-diagnostics
// One case per verifier branch of every wafer op.

// expected-error @+1 {{'wafer.param' op needs a name}}
wafer.param "" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{init must be normal, zeros or ones, not 'uniform'}}
wafer.param "w" group "" layers 1 "uniform" std 0.0 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{std must be positive for normal init and 0 otherwise, but is 0}}
wafer.param "w" group "" layers 1 "normal" std 0.0 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{std must be positive for normal init and 0 otherwise, but is -5.000000e-01}}
wafer.param "w" group "" layers 1 "normal" std -0.5 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{std must be positive for normal init and 0 otherwise, but is 5.000000e-01}}
wafer.param "b" group "" layers 1 "zeros" std 0.5 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{has 4 layers but no group; only grouped parameters repeat per layer}}
wafer.param "w" group "" layers 4 "ones" std 0.0 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{attribute 'layers' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
wafer.param "w" group "h" layers 0 "ones" std 0.0 decay 0.0 : tensor<4xf32>

// -----

// expected-error @+1 {{weight decay must not be negative}}
wafer.param "w" group "" layers 1 "ones" std 0.0 decay -0.1 : tensor<4xf32>

// -----

// expected-error @+1 {{param_type must be a static f32 tensor, not 'tensor<4xi32>'}}
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xi32>

// -----

// expected-error @+1 {{param_type must be a static f32 tensor, not 'tensor<?xf32>'}}
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<?xf32>

// -----

// expected-error @+1 {{param_type must be a static f32 tensor, not 'f32'}}
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : f32

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func @not_a_kernel() -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.stream_in' op must be inside a kernel (a func.func with the 'wafer.kernel' attribute)}}
  %w = wafer.stream_in "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k() -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  // expected-error @+1 {{'wafer.stream_in' op streams parameter 'v', which is not in the module's wafer.param table}}
  %w = wafer.stream_in "v" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// A parameter of another group is not this kernel's.
wafer.param "w" group "other" layers 2 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k(%x: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 2 : i64, wafer.carried = 1 : i64, wafer.sliced = 0 : i64} {
  // expected-error @+1 {{streams parameter 'w', which is not in the module's wafer.param table}}
  %w = wafer.stream_in "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// A kernel run once does not see grouped parameters.
wafer.param "w" group "h" layers 2 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k() -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  // expected-error @+1 {{streams parameter 'w', which is not in the module's wafer.param table}}
  %w = wafer.stream_in "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k() -> tensor<8xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  // expected-error @+1 {{'wafer.stream_in' op has type 'tensor<8xf32>' but parameter 'w' is 'tensor<4xf32>'}}
  %w = wafer.stream_in "w" : tensor<8xf32>
  return %w : tensor<8xf32>
}

// -----

// The group's own parameter wins over a top-level one of the same name.
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<8xf32>
wafer.param "w" group "h" layers 2 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k(%x: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 2 : i64, wafer.carried = 1 : i64, wafer.sliced = 0 : i64} {
  // expected-error @+1 {{has type 'tensor<8xf32>' but parameter 'w' is 'tensor<4xf32>'}}
  %w = wafer.stream_in "w" : tensor<8xf32>
  return %x : tensor<4xf32>
}

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func @not_a_kernel(%g: tensor<4xf32>) {
  // expected-error @+1 {{'wafer.stream_out' op must be inside a kernel (a func.func with the 'wafer.kernel' attribute)}}
  wafer.stream_out "w", %g : tensor<4xf32>
  return
}

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k(%g: tensor<4xf32>) attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  // expected-error @+1 {{'wafer.stream_out' op streams parameter 'v', which is not in the module's wafer.param table}}
  wafer.stream_out "v", %g : tensor<4xf32>
  return
}

// -----

wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<4xf32>
func.func private @k(%g: tensor<4x1xf32>) attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  // expected-error @+1 {{'wafer.stream_out' op has type 'tensor<4x1xf32>' but parameter 'w' is 'tensor<4xf32>'}}
  wafer.stream_out "w", %g : tensor<4x1xf32>
  return
}

// -----

func.func private @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @program(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.invoke' op invokes 'plain', which is not a kernel in this module}}
  %0 = wafer.invoke @plain(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @program(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.invoke' op invokes 'missing', which is not a kernel in this module}}
  %0 = wafer.invoke @missing(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @once(%x: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  return %x : tensor<4xf32>
}
func.func @program(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'wafer.invoke' op types '(tensor<8xf32>) -> tensor<8xf32>' do not match kernel @once of type '(tensor<4xf32>) -> tensor<4xf32>'}}
  %0 = wafer.invoke @once(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// A kernel run once returns plain values, not stacked ones.
func.func private @once(%x: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  return %x : tensor<4xf32>
}
func.func @program(%x: tensor<4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{do not match kernel @once of type '(tensor<4xf32>) -> tensor<4xf32>'}}
  %0 = wafer.invoke @once(%x) : (tensor<4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Operands: carried, then sliced (stacked over 3 layers), then shared.
// Results: carried, then stacked.
func.func private @block(%c: tensor<4xf32>, %s: tensor<2xf32>, %r: tensor<8xf32>) -> (tensor<4xf32>, tensor<2xf32>) attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64, wafer.carried = 1 : i64, wafer.sliced = 1 : i64} {
  return %c, %s : tensor<4xf32>, tensor<2xf32>
}
func.func @program(%c: tensor<4xf32>, %s: tensor<2xf32>, %r: tensor<8xf32>) {
  // expected-error @+1 {{'wafer.invoke' op types '(tensor<4xf32>, tensor<2xf32>, tensor<8xf32>) -> (tensor<4xf32>, tensor<2xf32>)' do not match grouped kernel @block run for 3 layers, which expects '(tensor<4xf32>, tensor<3x2xf32>, tensor<8xf32>) -> (tensor<4xf32>, tensor<3x2xf32>)'}}
  %0:2 = wafer.invoke @block(%c, %s, %r) : (tensor<4xf32>, tensor<2xf32>, tensor<8xf32>) -> (tensor<4xf32>, tensor<2xf32>)
  return
}

// -----

// The carried value and the shared one are not stacked.
func.func private @block(%c: tensor<4xf32>, %s: tensor<2xf32>, %r: tensor<8xf32>) -> (tensor<4xf32>, tensor<2xf32>) attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64, wafer.carried = 1 : i64, wafer.sliced = 1 : i64} {
  return %c, %s : tensor<4xf32>, tensor<2xf32>
}
func.func @program(%c: tensor<3x4xf32>, %s: tensor<3x2xf32>, %r: tensor<3x8xf32>) {
  // expected-error @+1 {{do not match grouped kernel @block run for 3 layers, which expects '(tensor<4xf32>, tensor<3x2xf32>, tensor<8xf32>) -> (tensor<4xf32>, tensor<3x2xf32>)'}}
  %0:2 = wafer.invoke @block(%c, %s, %r) : (tensor<3x4xf32>, tensor<3x2xf32>, tensor<3x8xf32>) -> (tensor<3x4xf32>, tensor<3x2xf32>)
  return
}

// -----

// A grouped kernel must say how its operands split.
func.func private @block(%c: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64} {
  return %c : tensor<4xf32>
}
func.func @program(%c: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.invoke' op invokes grouped kernel @block, which needs integer 'wafer.carried' and 'wafer.sliced' attributes}}
  %0 = wafer.invoke @block(%c) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @block(%c: tensor<4xf32>) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64, wafer.carried = 1 : i64, wafer.sliced = 1 : i64} {
  return %c : tensor<4xf32>
}
func.func @program(%c: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.invoke' op invokes grouped kernel @block with 1 carried and 1 sliced operands, but the kernel takes 1 operands and returns 1 results}}
  %0 = wafer.invoke @block(%c) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @block(%c: tensor<4xf32>, %s: i32) -> tensor<4xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 3 : i64, wafer.carried = 1 : i64, wafer.sliced = 1 : i64} {
  return %c : tensor<4xf32>
}
func.func @program(%c: tensor<4xf32>, %s: i32) -> tensor<4xf32> {
  // expected-error @+1 {{'wafer.invoke' op invokes grouped kernel @block, whose sliced operands and stacked results must be ranked tensors}}
  %0 = wafer.invoke @block(%c, %s) : (tensor<4xf32>, i32) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @update(%step: tensor<i64>) {
  // expected-error @+1 {{'wafer.update' op optimizer must be adamw or sgd, not 'lion'}}
  wafer.update "lion" step(%step) {accumulation = 1 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = 1.0e-3 : f64, max_gradient_norm = 1.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.9 : f64, warmup_steps = 10 : i64} : tensor<i64>
  return
}

// -----

func.func @update(%step: tensor<i64>) {
  // expected-error @+1 {{'wafer.update' op learning rate must be positive}}
  wafer.update "adamw" step(%step) {accumulation = 1 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = 0.0 : f64, max_gradient_norm = 1.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.9 : f64, warmup_steps = 10 : i64} : tensor<i64>
  return
}

// -----

func.func @update(%step: tensor<i64>) {
  // expected-error @+1 {{'wafer.update' op learning rate must be positive}}
  wafer.update "sgd" step(%step) {accumulation = 1 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = -1.0e-3 : f64, max_gradient_norm = 1.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.9 : f64, warmup_steps = 10 : i64} : tensor<i64>
  return
}

// -----

func.func @update(%step: tensor<i64>) {
  // expected-error @+1 {{'wafer.update' op max_gradient_norm must be positive}}
  wafer.update "adamw" step(%step) {accumulation = 1 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = 1.0e-3 : f64, max_gradient_norm = 0.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.9 : f64, warmup_steps = 10 : i64} : tensor<i64>
  return
}

// -----

func.func @update(%step: tensor<i64>) {
  // expected-error @+1 {{attribute 'accumulation' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  wafer.update "adamw" step(%step) {accumulation = 0 : i64, beta1 = 0.9 : f64, beta2 = 0.95 : f64, decay_steps = 100 : i64, epsilon = 1.0e-8 : f64, learning_rate = 1.0e-3 : f64, max_gradient_norm = 1.0 : f64, min_lr_ratio = 0.1 : f64, momentum = 0.9 : f64, warmup_steps = 10 : i64} : tensor<i64>
  return
}
