// RUN: giga-opt %s --split-input-file --giga-autodiff --verify-diagnostics

// expected-error @+1 {{no function is marked 'giga.loss'; add `attributes {giga.loss}` to the function that returns the loss}}
module {
  func.func @f() {
    return
  }
}

// -----

module {
  func.func @first() -> tensor<f32> attributes {giga.loss} {
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
  // expected-error @+1 {{is marked giga.loss, but so is @first; mark exactly one function}}
  func.func @second() -> tensor<f32> attributes {giga.loss} {
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

func.func @not_scalar() -> tensor<4xf32> attributes {giga.loss} {
  %w = giga.param "w" ones : tensor<4xf32>
  // expected-error @+1 {{must return exactly one value, the loss, of type tensor<f32>; a loss that is not a scalar cannot be differentiated}}
  return %w : tensor<4xf32>
}

// -----

func.func @no_params(%l: tensor<2x5xf32>, %t: tensor<2xi32>) -> tensor<f32> attributes {giga.loss} {
  %loss = giga.cross_entropy %l, %t : (tensor<2x5xf32>, tensor<2xi32>) -> tensor<f32>
  // expected-error @+1 {{returns a loss that depends on no giga.param; there is nothing to differentiate}}
  return %loss : tensor<f32>
}

// -----

func.func @not_differentiable(%g: tensor<2x5xf32>, %t: tensor<2xi32>) -> tensor<f32> attributes {giga.loss} {
  %w = giga.param "w" normal std 0.02 : tensor<2x5xf32>
  // expected-error @+1 {{'giga.gelu_grad' op is on the path from a parameter to the loss but has no VJP (DifferentiableOpInterface), so giga-autodiff cannot differentiate it}}
  %d = giga.gelu_grad %g, %w : tensor<2x5xf32>
  %loss = giga.cross_entropy %d, %t : (tensor<2x5xf32>, tensor<2xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

func.func @foreign_op(%x: tensor<2x5xf32>, %t: tensor<2xi32>) -> tensor<f32> attributes {giga.loss} {
  %w = giga.param "w" normal std 0.02 : tensor<2x5xf32>
  %a = giga.add %x, %w : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  // expected-error @+1 {{'func.call' op is on the path from a parameter to the loss but has no VJP}}
  %c = func.call @opaque(%a) : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %loss = giga.cross_entropy %c, %t : (tensor<2x5xf32>, tensor<2xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
func.func private @opaque(tensor<2x5xf32>) -> tensor<2x5xf32>

// -----

func.func @differentiated_twice(%x: tensor<2x5xf32>, %t: tensor<2xi32>) -> tensor<f32> attributes {giga.loss} {
  %w = giga.param "w" normal std 0.02 : tensor<2x5xf32>
  %a = giga.add %x, %w : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  %loss = giga.cross_entropy %a, %t : (tensor<2x5xf32>, tensor<2xi32>) -> tensor<f32>
  giga.param_grad "w", %w : tensor<2x5xf32>
  return %loss : tensor<f32>
}
// expected-error @-7 {{already holds giga.param_grad ops; giga-autodiff runs once}}

// -----

func.func @learned_mask(%q: tensor<1x1x2x4xf32>, %t: tensor<1x1x2xi32>) -> tensor<f32> attributes {giga.loss} {
  %mask = giga.param "mask" zeros : tensor<2x2xf32>
  // expected-error @+1 {{'giga.attention' op mask depends on a parameter, but attention is not differentiable in its mask}}
  %a = giga.attention %q, %q, %q, %mask {scale = 0.5 : f64} : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<2x2xf32>) -> tensor<1x1x2x4xf32>
  %loss = giga.cross_entropy %a, %t : (tensor<1x1x2x4xf32>, tensor<1x1x2xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

func.func @transposed_shared(%x: tensor<2x4x3xf32>, %t: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %w = giga.param "w" normal std 0.02 : tensor<4x5xf32>
  %a = giga.add %x, %x : (tensor<2x4x3xf32>, tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  %b = giga.param "b" zeros : tensor<3xf32>
  %c = giga.bias_add %a, %b : (tensor<2x4x3xf32>, tensor<3xf32>) -> tensor<2x4x3xf32>
  // expected-error @+1 {{cannot differentiate a transposed batched lhs against a shared rank-2 rhs; transpose the lhs explicitly with giga.transpose}}
  %m = giga.matmul %c, %w {transpose_lhs} : (tensor<2x4x3xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %loss = giga.cross_entropy %m, %t : (tensor<2x3x5xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

func.func @sliced_repeat(%x: tensor<2xf32>, %s: tensor<3x2xf32>, %t: tensor<i32>) -> tensor<f32> attributes {giga.loss} {
  // expected-error @+1 {{'giga.repeat' op with slices or stacked results is not differentiable yet}}
  %r = giga.repeat 3 "h" (%x : tensor<2xf32>) slices(%s : tensor<3x2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<2xf32>, %i: tensor<2xf32>):
    %w = giga.param "w" ones : tensor<2xf32>
    %a = giga.add %h, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    giga.yield %a : tensor<2xf32>
  }
  %r2 = giga.reshape %r : tensor<2xf32> -> tensor<1x2xf32>
  %t2 = giga.iota : tensor<1xi32>
  %loss = giga.cross_entropy %r2, %t2 : (tensor<1x2xf32>, tensor<1xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
