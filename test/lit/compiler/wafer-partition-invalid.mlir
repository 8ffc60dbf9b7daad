// RUN: giga-opt %s --split-input-file --giga-autodiff --wafer-partition --verify-diagnostics
// wafer-partition lowers a whole training step: the optimizer must be there.

// expected-error @+1 {{'func.func' op has no giga.store optimizer step; run giga-train-step-pipeline before wafer-partition}}
func.func @mlp(%tokens: tensor<2x4xi32>, %targets: tensor<2x4xi32>) -> tensor<f32> attributes {giga.loss} {
  %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
  %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
  %logits = giga.matmul %x, %wte {transpose_rhs} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
  %loss = giga.cross_entropy %logits, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

