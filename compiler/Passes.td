//===- Passes.td - giga's compiler passes ------------------*- tablegen -*-===//
#ifndef GIGA_COMPILER_PASSES_TD
#define GIGA_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def GigaFuseLinearCrossEntropy : Pass<"giga-fuse-linear-cross-entropy", "mlir::ModuleOp"> {
  let summary = "fuses a linear head and the cross-entropy after it";
  let description = [{
    Rewrites `giga.cross_entropy(giga.matmul(x, w) {transpose_rhs}, t)`,
    where w is a [V, C] matrix shared by every batch and the logits have no
    other use, into `giga.linear_cross_entropy(x, w, t)`, whose kernels
    hold `chunk` vocabulary columns of logits at a time: a GPT's [tokens, V]
    logits
    (411 MB for GPT-2 at 2048 tokens, and as much again for their
    gradient) never exist, and neither does the time spent writing and
    reading them. Its gradient computes the loss too, so a training step
    runs the forward op no more (it is eval_step's only: wafer-partition);
    the gradient computes each chunk twice, once for the logsumexp and once
    for the products, which is still cheaper than whole logits in RAM
    (docs/kernels.md).

    Runs first in giga-compile-pipeline, so that wafer-microbatch plans with
    the fused op's activations. The chunk is the target's `loss_chunk`
    (2048 unless the target says otherwise; 0 leaves the head and the loss
    apart), and a target's `loss_fusion_max_width` leaves wider heads apart
    (host: 512 and 256, measured in docs/kernels.md); the `chunk` option
    overrides both. A chunk wider than the vocabulary is clamped to it.
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"-1",
           "vocabulary columns of logits computed at a time; 0 fuses "
           "nothing; -1 (the default) takes the target's loss_chunk">,
    Option<"wafer", "wafer", "std::string", /*default=*/"\"wse2\"",
           "the target whose loss_chunk is the default: wse2, wse3, host or "
           "a target JSON file">
  ];
  let dependentDialects = ["::giga::GigaDialect"];
}

def GigaAutodiff : Pass<"giga-autodiff", "mlir::ModuleOp"> {
  let summary = "derives the gradient of the loss for every parameter";
  let description = [{
    Reverse-mode differentiation of the function marked `giga.loss`. Each
    op on a path from a `giga.param` to the loss builds its own VJP
    (DifferentiableOpInterface); the pass seeds the loss with 1, walks the
    ops backwards, sums the gradients of values used more than once (the
    tied embedding gets one gradient from the lookup and one from the output
    head) and hands every parameter's gradient to the store with
    `giga.param_grad`.

    A `giga.repeat` becomes a forward repeat that also stacks the per-layer
    activations its backward reads, and a `reverse` repeat that consumes
    them layer by layer; parameters are declared again in the backward body
    (they are streamed again, not saved). Forward values the backward reads
    at function level carry the `giga.saved` attribute; nothing else is kept
    alive for the backward.

    With `recompute` (or a `wafer.recompute` module attribute, which
    wafer-microbatch sets when saved activations do not fit), a repeated
    block saves only its input per layer and its backward computes the
    block's activations again: activation checkpointing per layer.

    Errors name the op: a non-differentiable op on the path to the loss, a
    loss that is not a scalar f32, a missing loss function.
  }];
  let options = [
    Option<"recompute", "recompute", "bool", /*default=*/"false",
           "recompute each repeated block's activations in its backward "
           "instead of saving them">
  ];
  let dependentDialects = ["::giga::GigaDialect"];
}

def GigaOptimizer : Pass<"giga-optimizer", "mlir::ModuleOp"> {
  let summary = "appends the optimizer step, run in the weight store";
  let description = [{
    Turns a differentiated loss function into one training step: it takes
    the step number as a new last argument (`giga.step`, counted from 1) and
    ends in a `giga.store` region that computes the global gradient norm,
    the clipping factor for `max_gradient_norm`, the learning rate (linear
    warmup, then cosine decay to `min_lr_ratio` x peak over `decay_steps`)
    and one update per parameter. Weight decay applies to parameters of rank
    2 or more only.

    Settings come from the module's `giga.run` dictionary (the frontend
    writes the config's `run` section there); the `optimizer` option
    overrides its `optimizer` entry. Each optimizer is a rule in
    compiler/optimizers/: AdamW (the default) and SGD with momentum.
  }];
  let options = [
    Option<"optimizerName", "optimizer", "std::string", /*default=*/"\"\"",
           "the update rule: adamw or sgd (default: giga.run.optimizer, "
           "else adamw)">
  ];
  let dependentDialects = ["::giga::GigaDialect", "::mlir::func::FuncDialect"];
}

def WaferPartition : Pass<"wafer-partition", "mlir::ModuleOp"> {
  let summary = "splits the training step into per-layer kernels";
  let description = [{
    Outlines the training step (after giga-train-step-pipeline) into one
    kernel per distinct layer kind and direction: each giga.repeat body
    becomes a kernel invoked once per layer ("h.fwd", "h.bwd"), and the
    ops between repeats become kernels run once ("pre.fwd" before the first
    repeated block, "post.fwd" after the last, and their backward twins).
    Inside kernels, parameters become `wafer.stream_in` and gradients
    `wafer.stream_out`; constants are recomputed where used. The program
    keeps `wafer.invoke`s, the parameter table (`wafer.param`) and the
    store-side `wafer.update`. The program does not grow with depth.
  }];
  let dependentDialects = ["::wafer::WaferDialect", "::mlir::func::FuncDialect"];
}

def WaferPlanBuffers : Pass<"wafer-plan-buffers", "mlir::ModuleOp"> {
  let summary = "assigns every tensor bytes in the activation arena";
  let description = [{
    Values that cross kernels get bytes by their live range over the
    invocations (activations saved for the backward live until their
    backward kernel; a repeated block's saved values are stacked, one
    tensor per layer); values inside a kernel share a scratch region, since
    kernels run one after another; a reshape shares its input's bytes; the
    carried value of a repeated kernel stays in one buffer. The plan is
    planned once and recorded in the IR, which later passes and the
    artifact writer read back: `wafer.buffer_table` on the program (each
    buffer's name, type, layers and byte offset into the arena) with the
    arena's regions (`wafer.program_bytes`, `wafer.scratch_bytes`,
    `wafer.op_scratch_offset`/`_bytes`, `wafer.staging_bytes`,
    `wafer.arena_bytes`); each value's buffer by name, `wafer.buffers` on
    ops (per result) and `wafer.arg_buffers` on functions, `name[layer]`
    where a kernel sees one layer of a stack; and on each kernel its
    scratch (`wafer.scratch_bytes`, `wafer.op_scratch_bytes`), the copies
    after its ops (`wafer.copies`, [from, to]) and the values carried from
    layer to layer (`wafer.carry`, [carried, yielded]).
  }];
}

def WaferPlace : Pass<"wafer-place", "mlir::ModuleOp"> {
  let summary = "places each kernel on the PE grid and estimates its cost";
  let description = [{
    A kernel has the whole wafer while it runs (one layer at a time, as in
    weight streaming): each op gets a band of PE rows in proportion to its
    share of the kernel's FLOPs (`wafer.pe_rect` = [row, col, rows, cols]).
    Per kernel it records PEs, SRAM for one invocation (its inputs and its
    scratch; weights stream through a slice at a time), FLOPs, compute cycles (FLOPs /
    (PEs x FLOPs per cycle x utilization)) and weight-stream cycles (bytes /
    MemoryX bandwidth); a layer costs the larger, since the next layer's
    weights stream in while this one computes. A kernel whose invocation
    does not fit the target's SRAM is an error that gives the numbers. The
    module gets a `wafer.report` (JSON) with the totals: parameters,
    activation peak, estimated step time and utilisation.
  }];
  let options = [
    Option<"wafer", "wafer", "std::string", /*default=*/"\"wse2\"",
           "the target: wse2, wse3, host or a target JSON file">
  ];
}

def WaferMicrobatch : Pass<"wafer-microbatch", "mlir::ModuleOp"> {
  let summary = "splits the batch into micro-batches whose activations fit";
  let description = [{
    Runs on the forward pass (before giga-autodiff). It measures the
    activation arena one pass needs (autodiff, partition and buffer plan on
    a copy) and, if the whole batch does not fit the target's memory,
    chooses the largest micro-batch that divides the batch and fits,
    rewriting every type along the batch dimension; gradients then
    accumulate in the store over `batch / micro-batch` passes, as
    Cerebras' automatic micro-batching does. It also tries recomputing each
    repeated block in its backward (`wafer.recompute`, one tensor kept per
    layer), which fits larger micro-batches for a third more compute, and
    keeps whichever of the two gives the shorter estimated step (wafer-
    place's cost model: small micro-batches stream the weights more often).
    If neither fits one sample, it fails and gives the numbers.
    Results: `wafer.micro_batch`, `wafer.accumulation` and
    `wafer.activation_bytes` on the module.
  }];
  let dependentDialects = ["::giga::GigaDialect", "::wafer::WaferDialect",
                           "::mlir::func::FuncDialect"];
  let options = [
    Option<"wafer", "wafer", "std::string", /*default=*/"\"wse2\"",
           "the target: wse2, wse3, host or a target JSON file">
  ];
}

#endif // GIGA_COMPILER_PASSES_TD
