// RUN: rm -rf %t && split-file %s %t
// RUN: giga-opt %t/model.mlir --wafer-microbatch=wafer=%t/half.json | FileCheck %t/model.mlir --check-prefix=HALF
// RUN: giga-opt %t/model.mlir --wafer-microbatch=wafer=%t/half.json --giga-train-step-pipeline --wafer-partition | FileCheck %t/model.mlir --check-prefix=HALF-STEP
// RUN: giga-opt %t/model.mlir --wafer-microbatch=wafer=%t/recompute.json | FileCheck %t/model.mlir --check-prefix=RECOMPUTE
// RUN: giga-opt %t/model.mlir --wafer-microbatch=wafer=%t/recompute.json --giga-train-step-pipeline --wafer-partition | FileCheck %t/model.mlir --check-prefix=RECOMPUTE-STEP
// RUN: giga-opt %t/model.mlir --wafer-microbatch=wafer=host | FileCheck %t/model.mlir --check-prefix=HOST
// RUN: giga-opt %t/nothing-fits.mlir --wafer-microbatch=wafer=%t/nothing.json --verify-diagnostics
// RUN: giga-opt %t/mixes-batch.mlir --wafer-microbatch=wafer=%t/nothing.json --verify-diagnostics

//--- model.mlir
// The MLP of wafer-plan-buffers.mlir with a batch of 4. At a micro-batch
// of B, an f32 [B,4,8] is A = 128*B bytes, an f32 [B,4,16] and a two-layer
// stack of [B,4,8] 2A; the i32 tokens and targets (16*B) and the loss each
// take 64 after rounding. The activations one pass keeps on the wafer
// (autodiff, partition, buffer plan) are the program buffers plus the
// largest kernel's scratch plus the ops' own scratch (cross-entropy's
// logsumexp, 4B floats, 64 bytes after rounding up to batch 4); weights and
// weight gradients only stream through and are not counted.
//   Saving every block's activations: the program holds pre.fwd#0 (A),
//   two h.fwd stacks (2A each), the logits (2A) and post.bwd#0 (A), all
//   live at once, and 192 bytes of tokens, targets and loss: 8A + 192. The
//   largest scratch is post.bwd's cross-entropy gradient (2A) and seed
//   (64): 10A + 256, and 64 of op scratch. Batch 4: 5440, batch 2: 2880
//   (as in wafer-plan-buffers.mlir), batch 1: 1600.
//   Recomputing each block: one h.fwd stack instead of two, 6A + 192. The
//   bias_add is no longer saved, so h.fwd's scratch is its carry, matmul
//   and bias_add (the last two meet at op 3): 3A; h.bwd likewise holds its
//   carry and the recomputed matmul and bias_add (gelu_grad then reuses the
//   matmul's bytes): 3A, the largest. 9A + 192, and 64 of op scratch.
//   Batch 4: 4864, batch 2: 2560, batch 1: 1408.

// half.json has 4000 bytes: the whole batch does not fit (5440), half does
// (2880). Recomputing fits only half the batch too (4864 > 4000), for more
// compute, so saving wins.
// HALF: module attributes {
// HALF-SAME: wafer.accumulation = 2 : i64, wafer.activation_bytes = 2880 : i64, wafer.micro_batch = 2 : i64}
// HALF-NOT: wafer.recompute
// Every batch-sized type is rewritten, inside the repeat too; weights not.
// HALF-NEXT: func.func @mlp(%{{.*}}: tensor<2x4xi32>, %{{.*}}: tensor<2x4xi32>) -> tensor<f32>
// HALF-NEXT: giga.param "wte.weight" {{.*}} : tensor<16x8xf32>
// HALF-NEXT: giga.embedding {{.*}} : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
// HALF-NEXT: giga.repeat 2 "h"(%{{.*}} : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// HALF-NEXT: ^bb0(%{{.*}}: tensor<2x4x8xf32>):
// HALF-NEXT: giga.param "fc.weight" {{.*}} : tensor<8x8xf32>
// HALF-NEXT: giga.param "fc.bias" {{.*}} : tensor<8xf32>
// HALF-NEXT: giga.matmul {{.*}} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
// HALF-NEXT: giga.bias_add {{.*}} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// HALF-NEXT: giga.gelu {{.*}} : tensor<2x4x8xf32>
// HALF-NEXT: giga.yield {{.*}} : tensor<2x4x8xf32>
// HALF-NEXT: }
// HALF-NEXT: giga.param "head.weight" {{.*}} : tensor<16x8xf32>
// HALF-NEXT: giga.matmul {{.*}} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// HALF-NEXT: giga.cross_entropy {{.*}} : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
// HALF-NOT: 4x4x

// The step then runs on micro-batches of 2 and the store averages 2 of them.
// HALF-STEP-LABEL: func.func @mlp(
// HALF-STEP-SAME: tensor<2x4xi32>, %{{.*}}: tensor<2x4xi32>
// HALF-STEP: wafer.invoke @h.fwd({{.*}}) : (tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>)
// HALF-STEP: wafer.update "adamw" step(%{{.*}}) {accumulation = 2 : i64,

// recompute.json has 2 x 750 = 1500 bytes: not even one sample fits saving
// every block's activations (1600), but it does recomputing them (1408).
// RECOMPUTE: module attributes {
// RECOMPUTE-SAME: wafer.accumulation = 4 : i64, wafer.activation_bytes = 1408 : i64, wafer.micro_batch = 1 : i64, wafer.recompute}
// RECOMPUTE-NEXT: func.func @mlp(%{{.*}}: tensor<1x4xi32>, %{{.*}}: tensor<1x4xi32>) -> tensor<f32>
// RECOMPUTE: giga.repeat 2 "h"(%{{.*}} : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
// RECOMPUTE: giga.cross_entropy {{.*}} : (tensor<1x4x16xf32>, tensor<1x4xi32>) -> tensor<f32>

// giga-autodiff follows wafer.recompute: the forward block saves only its
// input per layer (one stack, not two) and the backward block computes the
// rest again.
// RECOMPUTE-STEP-LABEL: func.func private @h.fwd(
// RECOMPUTE-STEP-SAME: -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>)
// RECOMPUTE-STEP-LABEL: func.func private @h.bwd(
// RECOMPUTE-STEP-SAME: wafer.sliced = 1 : i64
// RECOMPUTE-STEP: giga.matmul
// RECOMPUTE-STEP: giga.gelu_grad
// RECOMPUTE-STEP-LABEL: func.func @mlp(
// RECOMPUTE-STEP: wafer.invoke @h.fwd({{.*}}) : (tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<2x1x4x8xf32>)
// RECOMPUTE-STEP: wafer.update "adamw" step(%{{.*}}) {accumulation = 4 : i64,

// On the host (16 GiB) everything fits: nothing changes.
// HOST: module attributes {
// HOST-SAME: wafer.accumulation = 1 : i64, wafer.activation_bytes = 5440 : i64, wafer.micro_batch = 4 : i64}
// HOST-NOT: wafer.recompute
// HOST-NEXT: func.func @mlp(%{{.*}}: tensor<4x4xi32>, %{{.*}}: tensor<4x4xi32>) -> tensor<f32>
// HOST: giga.repeat 2 "h"(%{{.*}} : tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
// HOST: giga.cross_entropy {{.*}} : (tensor<4x4x16xf32>, tensor<4x4xi32>) -> tensor<f32>
module attributes {giga.run = {learning_rate = 1.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64}} {
  func.func @mlp(%tokens: tensor<4x4xi32>, %targets: tensor<4x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<4x4xi32>) -> tensor<4x4x8xf32>
    %h = giga.repeat 2 "h"(%x : tensor<4x4x8xf32>) -> tensor<4x4x8xf32> {
    ^bb0(%a: tensor<4x4x8xf32>):
      %w = giga.param "fc.weight" normal std 0.02 : tensor<8x8xf32>
      %b = giga.param "fc.bias" zeros : tensor<8xf32>
      %m = giga.matmul %a, %w {transpose_rhs} : (tensor<4x4x8xf32>, tensor<8x8xf32>) -> tensor<4x4x8xf32>
      %y = giga.bias_add %m, %b : (tensor<4x4x8xf32>, tensor<8xf32>) -> tensor<4x4x8xf32>
      %g = giga.gelu %y : tensor<4x4x8xf32>
      giga.yield %g : tensor<4x4x8xf32>
    }
    %head = giga.param "head.weight" normal std 0.02 : tensor<16x8xf32>
    %logits = giga.matmul %h, %head {transpose_rhs} : (tensor<4x4x8xf32>, tensor<16x8xf32>) -> tensor<4x4x16xf32>
    %loss = giga.cross_entropy %logits, %targets : (tensor<4x4x16xf32>, tensor<4x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- nothing-fits.mlir
// nothing.json has 3 x 400 = 1200 bytes: less than one sample with
// recomputation (1408).
// expected-error @+1 {{even one sample does not fit nothing: its activations need 1408 bytes with per-layer recomputation, but the target has 1200 bytes; shorten the sequence, narrow the model or use a target with more memory}}
module attributes {giga.run = {learning_rate = 1.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64}} {
  func.func @mlp(%tokens: tensor<4x4xi32>, %targets: tensor<4x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<4x4xi32>) -> tensor<4x4x8xf32>
    %h = giga.repeat 2 "h"(%x : tensor<4x4x8xf32>) -> tensor<4x4x8xf32> {
    ^bb0(%a: tensor<4x4x8xf32>):
      %w = giga.param "fc.weight" normal std 0.02 : tensor<8x8xf32>
      %b = giga.param "fc.bias" zeros : tensor<8xf32>
      %m = giga.matmul %a, %w {transpose_rhs} : (tensor<4x4x8xf32>, tensor<8x8xf32>) -> tensor<4x4x8xf32>
      %y = giga.bias_add %m, %b : (tensor<4x4x8xf32>, tensor<8xf32>) -> tensor<4x4x8xf32>
      %g = giga.gelu %y : tensor<4x4x8xf32>
      giga.yield %g : tensor<4x4x8xf32>
    }
    %head = giga.param "head.weight" normal std 0.02 : tensor<16x8xf32>
    %logits = giga.matmul %h, %head {transpose_rhs} : (tensor<4x4x8xf32>, tensor<16x8xf32>) -> tensor<4x4x16xf32>
    %loss = giga.cross_entropy %logits, %targets : (tensor<4x4x16xf32>, tensor<4x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- mixes-batch.mlir
// A softmax across the batch cannot be split into micro-batches.
module {
  func.func @f(%tokens: tensor<4x4xi32>, %targets: tensor<4x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x16xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x16xf32>, tensor<4x4xi32>) -> tensor<4x4x16xf32>
    // expected-error @+1 {{'giga.softmax' op mixes the batch dimension in a way wafer-microbatch cannot follow; compile with a batch whose activations fit the target}}
    %s = giga.softmax %x {axis = 0 : i64} : tensor<4x4x16xf32>
    %loss = giga.cross_entropy %s, %targets : (tensor<4x4x16xf32>, tensor<4x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- half.json
{"name": "half", "pe_rows": 1, "pe_cols": 1, "sram_per_pe_bytes": 4000,
 "clock_hz": 1.0e9, "flops_per_cycle_per_pe": 1, "memoryx_bytes_per_sec": 1.0e9,
 "utilization": 1.0}

//--- recompute.json
{"name": "recompute", "pe_rows": 2, "pe_cols": 1, "sram_per_pe_bytes": 750,
 "clock_hz": 1.0e9, "flops_per_cycle_per_pe": 1, "memoryx_bytes_per_sec": 1.0e9,
 "utilization": 1.0}

//--- nothing.json
{"name": "nothing", "pe_rows": 1, "pe_cols": 3, "sram_per_pe_bytes": 400,
 "clock_hz": 1.0e9, "flops_per_cycle_per_pe": 1, "memoryx_bytes_per_sec": 1.0e9,
 "utilization": 1.0}
