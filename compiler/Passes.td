//===- Passes.td - giga's compiler passes ------------------*- tablegen -*-===//
#ifndef GIGA_COMPILER_PASSES_TD
#define GIGA_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

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

#endif // GIGA_COMPILER_PASSES_TD
