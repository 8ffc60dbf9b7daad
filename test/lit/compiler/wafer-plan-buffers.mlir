// RUN: rm -rf %t && split-file %s %t
// RUN: giga-opt %t/model.mlir --giga-train-step-pipeline --wafer-partition --wafer-plan-buffers | FileCheck %t/model.mlir
// RUN: giga-opt %t/program.mlir --wafer-plan-buffers | FileCheck %t/program.mlir
// RUN: giga-opt %t/grads.mlir --wafer-plan-buffers | FileCheck %t/grads.mlir
// RUN: giga-opt %t/invalid.mlir --split-input-file --wafer-plan-buffers --verify-diagnostics

//--- model.mlir
// An embedding, two linear+gelu blocks and a matmul head, B=2, T=4, width 8,
// vocab 16 (f32, so [2,4,8] is 256 bytes, [2,4,16] 512, a [2,2,4,8] stack
// 512; everything is rounded up to 64 bytes).
//
// Program buffers (live range over invocations 0..5, return at 7):
//   tokens [2,4]xi32 32B  -1..5      targets 32B  -1..3
//   pre.fwd#0 256B 0..3 (h.fwd carries it in place: its result #0 is the same
//   buffer, read last by post.bwd)
//   h.fwd#1, h.fwd#2 (stacks) 512B 1..4     post.fwd#0 512B 2..3
//   post.fwd#1 (the loss) 64B 2..7          post.bwd#0 256B 3..5 (h.bwd
//   carries it in place)
// First fit, largest first: h.fwd#1 0, h.fwd#2 512, post.fwd#0 1024,
// pre.fwd#0 1536, post.bwd#0 1792, tokens 2048, targets 2112, loss 2176;
// 2240 bytes. Kernel scratch (values inside a kernel) starts there. After
// the largest scratch comes the streaming region: one layer's weights
// (stream_in, live from op 0 to their last use) and its weight gradients
// (values whose only users are wafer.stream_out, live from their op to
// their stream_out), which stream through rather than stay on the wafer.
//
// post.bwd's scratch: the cross-entropy gradient (512B, ops 2..6, through
// its reshape) at 2240 and the loss seed (64B, ops 1..2, overlapping it at
// op 2) at 2752: 576 bytes, the largest scratch (h.fwd and h.bwd need 512,
// the others none), ending at 2240 + 576 = 2816. Then the ops' own
// scratch (runtime/artifact/OpScratch): the largest is cross-entropy's
// logsumexp, one float per row of [2,4,16], 32 bytes rounded to 64, so the
// streaming region starts at 2816 + 64 = 2880. There head.weight (512B, ops
// 0..3) is dead by the time its gradient (512B, ops 6..7) is made, so the
// gradient takes the same bytes. The largest kernel's streaming is 512
// bytes (a [16,8] weight or gradient), so the arena is 2880 + 512 = 3392.

// CHECK-LABEL: func.func private @pre.fwd(
// CHECK-SAME: wafer.arg_buffers = ["tokens"]
// CHECK-SAME: wafer.scratch_bytes = 0 : i64
// CHECK-NEXT: wafer.stream_in "wte.weight" {wafer.buffers = ["pre.fwd.stream_in#0"]}
// The embedding is computed in place into its program buffer.
// CHECK-NEXT: giga.embedding {{.*}} {wafer.buffers = ["pre.fwd#0"]}

// h.fwd streams fc.weight (256B, ops 0..2) at 2816 and fc.bias (32B, which
// still takes 64; ops 0..3) after it at 3072. Scratch: the carry (256B, the
// whole kernel) at 2240, the matmul (ops 2..3) at 2496: 512.
// CHECK-LABEL: func.func private @h.fwd(
// CHECK-SAME: wafer.arg_buffers = ["pre.fwd#0"]
// CHECK-SAME: wafer.scratch_bytes = 512 : i64
// CHECK-NEXT: wafer.stream_in "fc.bias" {wafer.buffers = ["h.fwd.stream_in#0"]}
// CHECK-NEXT: wafer.stream_in "fc.weight" {wafer.buffers = ["h.fwd.stream_in#1"]}
// CHECK-NEXT: giga.matmul {{.*}} wafer.buffers = ["h.fwd.matmul#2"]}
// bias_add is saved for the backward: written into its layer's slice of the
// stack at 0.
// CHECK-NEXT: giga.bias_add {{.*}} {wafer.buffers = ["h.fwd#1[layer]"]}
// gelu is the next layer's input: computed into scratch at 2240, copied
// into the carried buffer at 1536 when the layer is done.
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["h.fwd.carry0"]}

// CHECK-LABEL: func.func private @post.fwd(
// CHECK-SAME: wafer.arg_buffers = ["pre.fwd#0", "targets"]
// CHECK-SAME: wafer.scratch_bytes = 0 : i64
// CHECK: giga.matmul {{.*}}wafer.buffers = ["post.fwd#0"]}
// CHECK: giga.cross_entropy {{.*}} {wafer.buffers = ["post.fwd#1"]}

// CHECK-LABEL: func.func private @post.bwd(
// CHECK-SAME: wafer.arg_buffers = ["post.fwd#0", "targets", "pre.fwd#0"]
// CHECK-SAME: wafer.scratch_bytes = 576 : i64
// CHECK-NEXT: wafer.stream_in "head.weight" {wafer.buffers = ["post.bwd.stream_in#0"]}
// CHECK-NEXT: giga.fill {{.*}}wafer.buffers = ["post.bwd.fill#1"]}
// CHECK-NEXT: giga.cross_entropy_grad {{.*}} {wafer.buffers = ["post.bwd.cross_entropy_grad#2"]}
// CHECK-NEXT: giga.matmul {{.*}} {wafer.buffers = ["post.bwd#0"]}
// A reshape shares its input's bytes, in the program or in scratch.
// CHECK-NEXT: giga.reshape {{.*}} {wafer.buffers = ["pre.fwd#0.view"]} : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: giga.reshape {{.*}} {wafer.buffers = ["post.bwd.cross_entropy_grad#2.view"]} : tensor<2x4x16xf32> -> tensor<8x16xf32>
// The weight gradient, only streamed out: in head.weight's bytes.
// CHECK-NEXT: giga.matmul {{.*}}wafer.buffers = ["post.bwd.matmul#6"]}
// CHECK-NEXT: wafer.stream_out "head.weight"

// h.bwd: scratch is the carried gradient computed at 2240 (the whole
// kernel) and gelu_grad at 2496 (ops 1..6, through its reshape): 512. In the
// streaming region, largest first: fc.weight (256B, ops 0..3) at 2816; the
// weight gradient (256B, ops 6..7) does not meet it, so also 2816; the bias
// gradient (32B -> 64, ops 2..7, held until its stream_out) meets both:
// 3072.
// CHECK-LABEL: func.func private @h.bwd(
// CHECK-SAME: wafer.arg_buffers = ["post.bwd#0", "h.fwd#1[layer]", "h.fwd#2[layer]"]
// CHECK-SAME: wafer.scratch_bytes = 512 : i64
// CHECK-NEXT: wafer.stream_in "fc.weight" {wafer.buffers = ["h.bwd.stream_in#0"]}
// CHECK-NEXT: giga.gelu_grad {{.*}} {wafer.buffers = ["h.bwd.gelu_grad#1"]}
// CHECK-NEXT: giga.reduce_sum {{.*}} {wafer.buffers = ["h.bwd.reduce_sum#2"]}
// CHECK-NEXT: giga.matmul {{.*}} {wafer.buffers = ["h.bwd.carry0"]}
// CHECK-NEXT: giga.reshape {{.*}} {wafer.buffers = ["h.fwd#2.view[layer]"]}
// CHECK-NEXT: giga.reshape {{.*}} {wafer.buffers = ["h.bwd.gelu_grad#1.view"]}
// CHECK-NEXT: giga.matmul {{.*}}wafer.buffers = ["h.bwd.matmul#6"]}

// pre.bwd's only value is the embedding gradient: streamed, no scratch.
// CHECK-LABEL: func.func private @pre.bwd(
// CHECK-SAME: wafer.arg_buffers = ["post.bwd#0", "tokens"]
// CHECK-SAME: wafer.scratch_bytes = 0 : i64
// CHECK-NEXT: giga.embedding_grad {{.*}} {wafer.buffers = ["pre.bwd.embedding_grad#0"]}

// CHECK-LABEL: func.func @mlp(
// CHECK-SAME: wafer.arena_bytes = 3392 : i64
// CHECK-SAME: wafer.arg_buffers = ["tokens", "targets", ""]
// The buffer table: every offset above, by name.
// CHECK-SAME: wafer.buffer_table = [
// CHECK-SAME: {layers = 0 : i64, name = "tokens", offset = 2048 : i64
// CHECK-SAME: {layers = 0 : i64, name = "targets", offset = 2112 : i64
// CHECK-SAME: {layers = 0 : i64, name = "pre.fwd#0", offset = 1536 : i64
// CHECK-SAME: {layers = 0 : i64, name = "pre.fwd.stream_in#0", offset = 2880 : i64
// CHECK-SAME: {layers = 2 : i64, name = "h.fwd#1", offset = 0 : i64
// CHECK-SAME: {layers = 2 : i64, name = "h.fwd#2", offset = 512 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.fwd.carry0", offset = 2240 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.fwd.stream_in#0", offset = 3136 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.fwd.stream_in#1", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.fwd.matmul#2", offset = 2496 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.fwd#0", offset = 1024 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.fwd#1", offset = 2176 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.fwd.stream_in#0", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd#0", offset = 1792 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd.stream_in#0", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd.fill#1", offset = 2752 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd.cross_entropy_grad#2", offset = 2240 : i64
// CHECK-SAME: {layers = 0 : i64, name = "pre.fwd#0.view", offset = 1536 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd.cross_entropy_grad#2.view", offset = 2240 : i64
// CHECK-SAME: {layers = 0 : i64, name = "post.bwd.matmul#6", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.carry0", offset = 2240 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.stream_in#0", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.gelu_grad#1", offset = 2496 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.reduce_sum#2", offset = 3136 : i64
// CHECK-SAME: {layers = 2 : i64, name = "h.fwd#2.view", offset = 512 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.gelu_grad#1.view", offset = 2496 : i64
// CHECK-SAME: {layers = 0 : i64, name = "h.bwd.matmul#6", offset = 2880 : i64
// CHECK-SAME: {layers = 0 : i64, name = "pre.bwd.embedding_grad#0", offset = 2880 : i64
// CHECK-SAME: wafer.program_bytes = 2240 : i64
// CHECK-NEXT: wafer.invoke @pre.fwd({{.*}}) {wafer.buffers = ["pre.fwd#0"]}
// The carried result stays in the carried operand's buffer.
// CHECK-NEXT: wafer.invoke @h.fwd({{.*}}) {wafer.buffers = ["pre.fwd#0", "h.fwd#1", "h.fwd#2"]}
// CHECK-NEXT: wafer.invoke @post.fwd({{.*}}) {wafer.buffers = ["post.fwd#0", "post.fwd#1"]}
// CHECK-NEXT: wafer.invoke @post.bwd({{.*}}) {wafer.buffers = ["post.bwd#0"]}
// CHECK-NEXT: wafer.invoke @h.bwd({{.*}}) {wafer.buffers = ["post.bwd#0"]}
// CHECK-NEXT: wafer.invoke @pre.bwd({{.*}}) :
module attributes {giga.run = {learning_rate = 1.0e-2 : f64, num_steps = 20 : i64, warmup_steps = 0 : i64}} {
  func.func @mlp(%tokens: tensor<2x4xi32>, %targets: tensor<2x4xi32>) -> tensor<f32> attributes {giga.loss} {
    %wte = giga.param "wte.weight" normal std 0.02 : tensor<16x8xf32>
    %x = giga.embedding %wte[%tokens] : (tensor<16x8xf32>, tensor<2x4xi32>) -> tensor<2x4x8xf32>
    %h = giga.repeat 2 "h"(%x : tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
    ^bb0(%a: tensor<2x4x8xf32>):
      %w = giga.param "fc.weight" normal std 0.02 : tensor<8x8xf32>
      %b = giga.param "fc.bias" zeros : tensor<8xf32>
      %m = giga.matmul %a, %w {transpose_rhs} : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
      %y = giga.bias_add %m, %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
      %g = giga.gelu %y : tensor<2x4x8xf32>
      giga.yield %g : tensor<2x4x8xf32>
    }
    %head = giga.param "head.weight" normal std 0.02 : tensor<16x8xf32>
    %logits = giga.matmul %h, %head {transpose_rhs} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
    %loss = giga.cross_entropy %logits, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

//--- program.mlir
// Three kernels in a row on 20 floats (80 bytes, 128 with alignment).
// %x dies at @a, %0 at @b: @b's result reuses %x's bytes (0) and @c's
// result reuses @a's (128). Two program buffers' worth: 256 bytes, then
// scratch for @a's and @c's intermediate (128): an arena of 384.

// CHECK-LABEL: func.func private @a(
// CHECK-SAME: wafer.arg_buffers = ["tokens"]
// CHECK-SAME: wafer.scratch_bytes = 128 : i64
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["a.gelu#0"]}
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["a#0"]}
// CHECK-LABEL: func.func private @b(
// CHECK-SAME: wafer.arg_buffers = ["a#0"]
// CHECK-SAME: wafer.scratch_bytes = 0 : i64
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["b#0"]}
// A returned reshape is a view of scratch, copied out at the end.
// CHECK-LABEL: func.func private @c(
// CHECK-SAME: wafer.arg_buffers = ["b#0"]
// CHECK-SAME: wafer.scratch_bytes = 128 : i64
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["c.gelu#0"]}
// CHECK-NEXT: giga.reshape {{.*}} {wafer.buffers = ["c.gelu#0.view"]}
// CHECK-LABEL: func.func @p(
// CHECK-SAME: wafer.arena_bytes = 384 : i64
// CHECK-SAME: wafer.arg_buffers = ["tokens"]
// CHECK-SAME: wafer.buffer_table = [
// CHECK-SAME: {layers = 0 : i64, name = "tokens", offset = 0 : i64
// CHECK-SAME: {layers = 0 : i64, name = "a#0", offset = 128 : i64
// CHECK-SAME: {layers = 0 : i64, name = "a.gelu#0", offset = 256 : i64
// CHECK-SAME: {layers = 0 : i64, name = "b#0", offset = 0 : i64
// CHECK-SAME: {layers = 0 : i64, name = "c#0", offset = 128 : i64
// CHECK-SAME: {layers = 0 : i64, name = "c.gelu#0", offset = 256 : i64
// CHECK-SAME: {layers = 0 : i64, name = "c.gelu#0.view", offset = 256 : i64
// CHECK-SAME: wafer.program_bytes = 256 : i64
// CHECK-NEXT: wafer.invoke @a(%{{.*}}) {wafer.buffers = ["a#0"]}
// CHECK-NEXT: wafer.invoke @b(%{{.*}}) {wafer.buffers = ["b#0"]}
// CHECK-NEXT: wafer.invoke @c(%{{.*}}) {wafer.buffers = ["c#0"]}
func.func private @a(%t: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %0 = giga.gelu %t : tensor<20xf32>
  %1 = giga.gelu %0 : tensor<20xf32>
  return %1 : tensor<20xf32>
}
func.func private @b(%t: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %0 = giga.gelu %t : tensor<20xf32>
  return %0 : tensor<20xf32>
}
func.func private @c(%t: tensor<20xf32>) -> tensor<4x5xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %0 = giga.gelu %t : tensor<20xf32>
  %1 = giga.reshape %0 : tensor<20xf32> -> tensor<4x5xf32>
  return %1 : tensor<4x5xf32>
}
func.func @p(%x: tensor<20xf32>) -> tensor<4x5xf32> attributes {wafer.program} {
  %0 = wafer.invoke @a(%x) : (tensor<20xf32>) -> tensor<20xf32>
  %1 = wafer.invoke @b(%0) : (tensor<20xf32>) -> tensor<20xf32>
  %2 = wafer.invoke @c(%1) : (tensor<20xf32>) -> tensor<4x5xf32>
  return %2 : tensor<4x5xf32>
}

//--- grads.mlir
// Gradients stream out as they are made. %0 and %2 are used only by
// wafer.stream_out, so they go to the streaming region and are free after
// their stream_out: %0 lives over ops 0..1, %2 over ops 3..5, so both take
// the region's first bytes. %1 is also read by an op, so it stays in
// scratch (ops 2..4). 20 floats take 128 bytes: %x in the program (0),
// %1 in scratch (128), the streaming region from 256: an arena of 384 (512
// if a gradient were held to the kernel's end).

// CHECK-LABEL: func.func private @k(
// CHECK-SAME: wafer.scratch_bytes = 128 : i64
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["k.gelu#0"]}
// CHECK-NEXT: wafer.stream_out "u"
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["k.gelu#2"]}
// CHECK-NEXT: giga.gelu {{.*}} {wafer.buffers = ["k.gelu#3"]}
// CHECK-LABEL: func.func @p(
// CHECK-SAME: wafer.arena_bytes = 384 : i64
// CHECK-SAME: wafer.buffer_table = [
// CHECK-SAME: {layers = 0 : i64, name = "tokens", offset = 0 : i64
// CHECK-SAME: {layers = 0 : i64, name = "k.gelu#0", offset = 256 : i64
// CHECK-SAME: {layers = 0 : i64, name = "k.gelu#2", offset = 128 : i64
// CHECK-SAME: {layers = 0 : i64, name = "k.gelu#3", offset = 256 : i64
// CHECK-SAME: wafer.program_bytes = 128 : i64
wafer.param "u" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<20xf32>
wafer.param "v" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<20xf32>
wafer.param "w" group "" layers 1 "zeros" std 0.0 decay 0.0 : tensor<20xf32>
func.func private @k(%t: tensor<20xf32>) attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %0 = giga.gelu %t : tensor<20xf32>
  wafer.stream_out "u", %0 : tensor<20xf32>
  %1 = giga.gelu %t : tensor<20xf32>
  %2 = giga.gelu %1 : tensor<20xf32>
  wafer.stream_out "v", %1 : tensor<20xf32>
  wafer.stream_out "w", %2 : tensor<20xf32>
  return
}
func.func @p(%x: tensor<20xf32>) attributes {wafer.program} {
  wafer.invoke @k(%x) : (tensor<20xf32>) -> ()
  return
}

//--- invalid.mlir
func.func private @a(%t: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  %0 = giga.gelu %t : tensor<20xf32>
  return %0 : tensor<20xf32>
}
func.func @p(%x: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.program} {
  %0 = wafer.invoke @a(%x) : (tensor<20xf32>) -> tensor<20xf32>
  // expected-error @+1 {{'wafer.invoke' op invokes @a a second time; the artifact runs each kernel once per micro-batch}}
  %1 = wafer.invoke @a(%0) : (tensor<20xf32>) -> tensor<20xf32>
  return %1 : tensor<20xf32>
}

// -----

func.func private @g(%c: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 2 : i64, wafer.carried = 1 : i64, wafer.sliced = 0 : i64} {
  %0 = giga.gelu %c : tensor<20xf32>
  return %0 : tensor<20xf32>
}
func.func private @a(%t: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.kernel, wafer.group = "", wafer.layers = 1 : i64} {
  return %t : tensor<20xf32>
}
func.func @p(%x: tensor<20xf32>) -> tensor<20xf32> attributes {wafer.program} {
  // expected-error @+1 {{'wafer.invoke' op carries operand #0, which is used again after the invocation; the carried buffer is updated in place}}
  %0 = wafer.invoke @g(%x) : (tensor<20xf32>) -> tensor<20xf32>
  %1 = wafer.invoke @a(%x) : (tensor<20xf32>) -> tensor<20xf32>
  return %1 : tensor<20xf32>
}

// -----

// The step number (rank 0) goes to the store, not the arena: no kernel may
// read it, carried or not.
func.func private @g(%c: tensor<f32>) -> tensor<f32> attributes {wafer.kernel, wafer.group = "h", wafer.layers = 2 : i64, wafer.carried = 1 : i64, wafer.sliced = 0 : i64} {
  return %c : tensor<f32>
}
func.func @p(%x: tensor<20xf32>, %s: tensor<f32>) -> tensor<f32> attributes {wafer.program} {
  // expected-error @+1 {{'wafer.invoke' op reads a value the plan has no buffer for}}
  %0 = wafer.invoke @g(%s) : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// expected-error @+1 {{no function is marked wafer.program; run wafer-partition first}}
module {
  func.func @p(%x: tensor<20xf32>) -> tensor<20xf32> {
    return %x : tensor<20xf32>
  }
}
