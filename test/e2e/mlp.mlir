// A model that is not a GPT, written directly in the giga dialect: a
// residual MLP on tokens. `gigac compile mlp.mlir -o mlp.wafer` compiles it
// like a config; the e2e training test trains it.
//
//   x = wte[tokens]                      [B,T,C]   B = 4, T = 8, C = 16
//   2 x: x = x + gelu(x @ fc.weight^T + fc.bias)
//   logits = x @ head.weight^T           [B,T,V]   V = 32
//   loss = cross_entropy(logits, targets)
module attributes {giga.name = "mlp", giga.run = {learning_rate = 1.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64}} {
  func.func @mlp(%tokens: tensor<4x8xi32>, %targets: tensor<4x8xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<32x16xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<32x16xf32>, tensor<4x8xi32>) -> tensor<4x8x16xf32>
    %h = giga.repeat 2 "h"(%x : tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
    ^bb0(%a: tensor<4x8x16xf32>):
      %w = giga.param "fc.weight" normal std 0.02 : tensor<16x16xf32>
      %b = giga.param "fc.bias" zeros : tensor<16xf32>
      %m = giga.matmul %a, %w {transpose_rhs} : (tensor<4x8x16xf32>, tensor<16x16xf32>) -> tensor<4x8x16xf32>
      %y = giga.bias_add %m, %b : (tensor<4x8x16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
      %g = giga.gelu %y : tensor<4x8x16xf32>
      %r = giga.add %a, %g : (tensor<4x8x16xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
      giga.yield %r : tensor<4x8x16xf32>
    }
    %head = giga.param "head.weight" normal std 0.02 : tensor<32x16xf32>
    %logits = giga.matmul %h, %head {transpose_rhs} : (tensor<4x8x16xf32>, tensor<32x16xf32>) -> tensor<4x8x32xf32>
    %loss = giga.cross_entropy %logits, %targets : (tensor<4x8x32xf32>, tensor<4x8xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
