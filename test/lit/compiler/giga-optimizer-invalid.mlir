// RUN: giga-opt %s --split-input-file --giga-optimizer --verify-diagnostics

module attributes {giga.run = {learning_rate = 0.1 : f64}} {
  // expected-error @+1 {{has no giga.param_grad; run giga-autodiff before giga-optimizer}}
  func.func @no_grads(%x: tensor<3x2xf32>) -> tensor<f32> attributes {giga.loss} {
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// expected-error @+1 {{giga-optimizer needs giga.run.learning_rate to be a number; add it to the module's `giga.run` dictionary}}
module {
  func.func @no_rate(%x: tensor<3x2xf32>) -> tensor<f32> attributes {giga.loss} {
    %w = giga.param "w" zeros : tensor<3x2xf32>
    giga.param_grad "w", %w : tensor<3x2xf32>
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// expected-error @+1 {{unknown optimizer 'lion'; choose adamw or sgd}}
module attributes {giga.run = {learning_rate = 0.1 : f64, optimizer = "lion"}} {
  func.func @unknown(%x: tensor<3x2xf32>) -> tensor<f32> attributes {giga.loss} {
    %w = giga.param "w" zeros : tensor<3x2xf32>
    giga.param_grad "w", %w : tensor<3x2xf32>
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

module attributes {giga.run = {learning_rate = 0.1 : f64}} {
  // expected-error @+1 {{already ends in a giga.store optimizer step; giga-optimizer runs once}}
  func.func @twice(%x: tensor<3x2xf32>) -> tensor<f32> attributes {giga.loss} {
    %w = giga.param "w" zeros : tensor<3x2xf32>
    giga.param_grad "w", %w : tensor<3x2xf32>
    giga.store {
    }
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// expected-error @+1 {{giga-optimizer needs giga.run.warmup_steps to be an integer}}
module attributes {giga.run = {learning_rate = 0.1 : f64, warmup_steps = "ten"}} {
  func.func @mistyped(%x: tensor<3x2xf32>) -> tensor<f32> attributes {giga.loss} {
    %w = giga.param "w" zeros : tensor<3x2xf32>
    giga.param_grad "w", %w : tensor<3x2xf32>
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

module attributes {giga.run = {learning_rate = 0.1 : f64}} {
  func.func @nested(%x: tensor<2xf32>) -> tensor<f32> attributes {giga.loss} {
    %r = giga.repeat 2 "h" (%x : tensor<2xf32>) -> tensor<2xf32> {
    ^bb0(%h: tensor<2xf32>):
      %i = giga.repeat 2 "inner" (%h : tensor<2xf32>) -> tensor<2xf32> {
      ^bb0(%k: tensor<2xf32>):
        // expected-error @+1 {{is nested deeper than one giga.repeat; giga-optimizer supports one level of repeat}}
        %w = giga.param "w" zeros : tensor<2xf32>
        giga.param_grad "w", %w : tensor<2xf32>
        giga.yield %k : tensor<2xf32>
      }
      giga.yield %i : tensor<2xf32>
    }
    %0 = giga.fill 0.0 : tensor<f32>
    return %0 : tensor<f32>
  }
}
