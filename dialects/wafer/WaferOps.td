//===- WaferOps.td - the wafer (target-level) dialect ------*- tablegen -*-===//
#ifndef WAFER_OPS_TD
#define WAFER_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Wafer_Dialect : Dialect {
  let name = "wafer";
  let cppNamespace = "::wafer";
  let summary = "A training step as per-layer kernels streaming weights";
  let description = [{
    The program of a training step on a dataflow wafer: kernels (`func.func`
    with `wafer.kernel` attributes, bodies of giga ops) invoked once or once
    per layer, weights streamed in from the store and gradients streamed
    out, a parameter table and the store-side optimizer update. Placement
    and the buffer plan are attributes on the kernels and the values.
  }];
}

class Wafer_Op<string mnemonic, list<Trait> traits = []>
    : Op<Wafer_Dialect, mnemonic, traits>;

def Wafer_ParamOp : Wafer_Op<"param"> {
  let summary = "one entry of the parameter table held by the weight store";
  let description = [{
    A parameter, or with a `group` one per layer (`layers` of them, named
    `<group>.<layer>.<name>`). The store initialises it from `init`/`std`
    and applies `weight_decay` in the optimizer update.

    ```mlir
    wafer.param "attn.q.weight" group "h" layers 12 normal std 0.02 decay 0.1 : tensor<768x768xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$group,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$layers,
                       StrAttr:$init, F64Attr:$std, F64Attr:$weight_decay,
                       TypeAttr:$param_type);
  let assemblyFormat = [{
    $name `group` $group `layers` $layers $init `std` $std `decay` $weight_decay
    attr-dict `:` $param_type
  }];
  let hasVerifier = 1;
}

def Wafer_StreamInOp : Wafer_Op<"stream_in", [MemoryEffects<[MemRead]>]> {
  let summary = "this layer's weights of a parameter, streamed in from the store";
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyStaticShapeTensor:$weights);
  let assemblyFormat = "$name attr-dict `:` type($weights)";
  let hasVerifier = 1;
}

def Wafer_StreamOutOp : Wafer_Op<"stream_out", [MemoryEffects<[MemWrite]>]> {
  let summary = "adds this layer's gradient of a parameter into the store";
  let arguments = (ins StrAttr:$name, AnyStaticShapeTensor:$grad);
  let assemblyFormat = "$name `,` $grad attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

def Wafer_InvokeOp : Wafer_Op<"invoke", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "runs a kernel once, or once per layer of its group";
  let description = [{
    With `layers` > 1 (or a grouped kernel) the operands are the carried
    values, then `sliced` stacked values (one slice per layer), then values
    every layer reads; the results are the final carried values, then the
    per-layer results stacked along a new leading dimension. A once-run
    kernel takes and returns plain values.
  }];
  let arguments = (ins FlatSymbolRefAttr:$kernel, Variadic<AnyType>:$args);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = [{
    $kernel `(` $args `)` attr-dict `:` functional-type($args, $results)
  }];
}

def Wafer_UpdateOp : Wafer_Op<"update", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "the optimizer step, run in the weight store after all micro-batches";
  let description = [{
    Scales the accumulated gradients by 1 / `accumulation`, clips them by
    their global norm to `max_gradient_norm` and applies `optimizer` with
    the scheduled learning rate to every parameter in the table.
  }];
  let arguments = (ins AnyTensor:$step, StrAttr:$optimizer,
                       F64Attr:$learning_rate, I64Attr:$warmup_steps,
                       I64Attr:$decay_steps, F64Attr:$min_lr_ratio,
                       F64Attr:$max_gradient_norm, F64Attr:$beta1,
                       F64Attr:$beta2, F64Attr:$epsilon, F64Attr:$momentum,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$accumulation);
  let assemblyFormat = "$optimizer `step` `(` $step `)` attr-dict `:` type($step)";
  let hasVerifier = 1;
}

#endif // WAFER_OPS_TD
