// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy | FileCheck %s
// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy=chunk=3 | FileCheck %s --check-prefix=CHUNK
// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy=chunk=0 | FileCheck %s --check-prefix=APART
// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy=wafer=host | FileCheck %s --check-prefix=HOST
// RUN: echo '{"name": "narrow", "pe_rows": 1, "pe_cols": 1, "sram_per_pe_bytes": 1000000, "clock_hz": 1e9, "flops_per_cycle_per_pe": 1, "memoryx_bytes_per_sec": 1e9, "utilization": 0.5, "loss_chunk": 4, "loss_fusion_max_width": 3}' > %t.json
// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy=wafer=%t.json | FileCheck %s --check-prefix=APART
// RUN: giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy="wafer=%t.json chunk=4" | FileCheck %s --check-prefix=FORCED
// RUN: not giga-opt %s --split-input-file --giga-fuse-linear-cross-entropy=wafer=nosuch 2>&1 | FileCheck %s --check-prefix=TARGET

// A tied head: x [2, 3, 4] times wteᵀ for wte [10, 4], then the loss. The
// matmul and the cross-entropy become one op; the default chunk (wse2's
// loss_chunk, 2048) is clamped to the 10 classes, and chunk=3 is kept; host
// fuses this 4-wide head too (loss_chunk 512, loss_fusion_max_width 256).
// chunk=0, or a target whose loss_fusion_max_width is below the width,
// leaves them apart; an explicit chunk fuses whatever the width. (Its
// gradient: giga-autodiff.mlir.)
// CHECK-LABEL: func.func @tied_head
// CHECK: %[[W:.*]] = giga.param "wte"
// CHECK: %[[X:.*]] = giga.embedding
// CHECK-NOT: giga.matmul
// CHECK-NOT: giga.cross_entropy
// CHECK: %[[LOSS:.*]] = giga.linear_cross_entropy %[[X]], %[[W]], %{{.*}} {chunk = 10 : i64} : (tensor<2x3x4xf32>, tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<f32>
// CHECK: return %[[LOSS]]
// CHUNK-LABEL: func.func @tied_head
// CHUNK: giga.linear_cross_entropy {{.*}} {chunk = 3 : i64}
// HOST-LABEL: func.func @tied_head
// HOST: giga.linear_cross_entropy {{.*}} {chunk = 10 : i64}
// FORCED-LABEL: func.func @tied_head
// FORCED: giga.linear_cross_entropy {{.*}} {chunk = 4 : i64}
// APART-LABEL: func.func @tied_head
// APART: giga.matmul
// APART: giga.cross_entropy
// APART-NOT: giga.linear_cross_entropy
// TARGET: nosuch
func.func @tied_head(%ids: tensor<2x3xi32>, %targets: tensor<2x3xi32>) -> tensor<f32> attributes {giga.loss} {
  %wte = giga.param "wte" normal std 0.02 : tensor<10x4xf32>
  %x = giga.embedding %wte[%ids] : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %logits = giga.matmul %x, %wte {transpose_rhs} : (tensor<2x3x4xf32>, tensor<10x4xf32>) -> tensor<2x3x10xf32>
  %loss = giga.cross_entropy %logits, %targets : (tensor<2x3x10xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Logits that something else reads too must exist whole: nothing is fused.
// CHECK-LABEL: func.func @logits_used_twice
// CHECK: giga.matmul
// CHECK: giga.cross_entropy
// CHECK-NOT: giga.linear_cross_entropy
func.func @logits_used_twice(%x: tensor<6x4xf32>, %targets: tensor<6xi32>) -> (tensor<f32>, tensor<6x10xf32>) {
  %w = giga.param "w" normal std 0.02 : tensor<10x4xf32>
  %logits = giga.matmul %x, %w {transpose_rhs} : (tensor<6x4xf32>, tensor<10x4xf32>) -> tensor<6x10xf32>
  %loss = giga.cross_entropy %logits, %targets : (tensor<6x10xf32>, tensor<6xi32>) -> tensor<f32>
  return %loss, %logits : tensor<f32>, tensor<6x10xf32>
}

// -----

// A weight stored [C, V] (no transpose_rhs), a transposed input, and a
// batched rhs are not the fused op's form: left alone.
// CHECK-LABEL: func.func @other_layouts
// CHECK-COUNT-3: giga.cross_entropy
// CHECK-NOT: giga.linear_cross_entropy
func.func @other_layouts(%x: tensor<6x4xf32>, %xt: tensor<4x6xf32>, %xb: tensor<2x6x4xf32>, %t: tensor<6xi32>, %tb: tensor<2x6xi32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %w = giga.param "w" normal std 0.02 : tensor<4x10xf32>
  %l1 = giga.matmul %x, %w : (tensor<6x4xf32>, tensor<4x10xf32>) -> tensor<6x10xf32>
  %a = giga.cross_entropy %l1, %t : (tensor<6x10xf32>, tensor<6xi32>) -> tensor<f32>
  %v = giga.param "v" normal std 0.02 : tensor<10x4xf32>
  %l2 = giga.matmul %xt, %v {transpose_lhs, transpose_rhs} : (tensor<4x6xf32>, tensor<10x4xf32>) -> tensor<6x10xf32>
  %b = giga.cross_entropy %l2, %t : (tensor<6x10xf32>, tensor<6xi32>) -> tensor<f32>
  %u = giga.param "u" normal std 0.02 : tensor<2x10x4xf32>
  %l3 = giga.matmul %xb, %u {transpose_rhs} : (tensor<2x6x4xf32>, tensor<2x10x4xf32>) -> tensor<2x6x10xf32>
  %c = giga.cross_entropy %l3, %tb : (tensor<2x6x10xf32>, tensor<2x6xi32>) -> tensor<f32>
  return %a, %b, %c : tensor<f32>, tensor<f32>, tensor<f32>
}
