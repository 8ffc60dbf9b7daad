//===- GigaOps.td - ops of the giga dialect ----------------*- tablegen -*-===//
#ifndef GIGA_OPS_TD
#define GIGA_OPS_TD

include "dialects/giga/GigaDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def Giga_ParamOp : Giga_Op<"param", [Pure]> {
  let summary = "declares a trainable parameter by name, shape and init";
  let description = [{
    Declares a parameter; its values live in the weight store, never in the
    IR. `normal` draws from N(0, std²); `zeros` and `ones` take no std.
    Inside a `giga.repeat`, a parameter is one tensor per iteration, named
    `<prefix>.<iteration>.<name>`.

    ```mlir
    %wte = giga.param "wte.weight" normal std 2.0e-02 : tensor<50257x768xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Giga_InitKind:$init,
                       OptionalAttr<F64Attr>:$std);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$name $init (`std` $std^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dense and elementwise ops
//===----------------------------------------------------------------------===//

def Giga_EmbeddingOp : Giga_Op<"embedding", [Pure]> {
  let summary = "looks up rows of a table by id";
  let description = [{
    `result[i..., :] = table[ids[i...], :]` for a table of shape [V, C].
  }];
  let arguments = (ins Giga_FloatTensor:$table, Giga_IdTensor:$ids);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_MatmulOp : Giga_Op<"matmul", [Pure]> {
  let summary = "batched matrix product with optional transposes";
  let description = [{
    Multiplies the last two dimensions: lhs [..., M, K] by rhs [..., K, N]
    (after the optional transposes), giving [..., M, N]. A rank-2 rhs is
    shared by every batch, which is how a linear layer applies its weight
    [N, K] (`transpose_rhs`) to activations [B, T, K].
  }];
  let arguments = (ins Giga_FloatTensor:$lhs, Giga_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_AddOp : Giga_Op<"add", [Pure]> {
  let summary = "elementwise sum, broadcasting rhs over lhs's leading dimensions";
  let description = [{
    `rhs` has the shape of `lhs` or a suffix of it (as the position
    embedding [T, C] is added to every batch of [B, T, C]).
  }];
  let arguments = (ins Giga_FloatTensor:$lhs, Giga_FloatTensor:$rhs);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Giga_BiasAddOp : Giga_Op<"bias_add", [Pure]> {
  let summary = "adds a bias [N] along the last dimension of [..., N]";
  let arguments = (ins Giga_FloatTensor:$input, Giga_FloatTensor:$bias);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_LayerNormOp : Giga_Op<"layernorm", [Pure]> {
  let summary = "layer normalisation over the last dimension";
  let arguments = (ins Giga_FloatTensor:$input, Giga_FloatTensor:$weight,
                       Giga_FloatTensor:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_GeluOp : Giga_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, exact (erf) unless `tanh` asks for the approximation";
  let arguments = (ins Giga_FloatTensor:$input, UnitAttr:$tanh);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input (`tanh` $tanh^)? attr-dict `:` type($result)";
}

def Giga_SoftmaxOp : Giga_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let arguments = (ins Giga_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Giga_IotaOp : Giga_Op<"iota", [Pure]> {
  let summary = "the ids 0, 1, ..., N-1 (positions for the position embedding)";
  let results = (outs StaticShapeTensorOf<[AnyInteger]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Giga_CausalMaskOp : Giga_Op<"causal_mask", [Pure]> {
  let summary = "the additive causal mask [T, T]: 0 on and below the diagonal, -inf above";
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Giga_AttentionOp : Giga_Op<"attention", [Pure]> {
  let summary = "scaled dot-product attention with an explicit additive mask";
  let description = [{
    `softmax(scale * q kᵀ + mask) v` per batch and head, with q, k, v of
    shape [B, H, T, D] and the mask [T, T] an operand, as gigaGPT passes it.
  }];
  let arguments = (ins Giga_FloatTensor:$query, Giga_FloatTensor:$key,
                       Giga_FloatTensor:$value, Giga_FloatTensor:$mask,
                       F64Attr:$scale);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def Giga_CrossEntropyOp : Giga_Op<"cross_entropy", [Pure]> {
  let summary = "mean cross-entropy of logits [..., V] against integer targets [...]";
  let arguments = (ins Giga_FloatTensor:$logits, Giga_IdTensor:$targets);
  let results = (outs 0DTensorOf<[F32]>:$loss);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Giga_ReshapeOp : Giga_Op<"reshape", [Pure]> {
  let summary = "reinterprets a tensor under another shape of the same size";
  let arguments = (ins Giga_FloatTensor:$input);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Giga_TransposeOp : Giga_Op<"transpose", [Pure]> {
  let summary = "permutes dimensions: result dim i is input dim permutation[i]";
  let arguments = (ins Giga_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Giga_SplitOp : Giga_Op<"split", [Pure]> {
  let summary = "splits a tensor into equal parts along one axis";
  let arguments = (ins Giga_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Giga_FloatTensor>:$results);
  let assemblyFormat = [{
    $input `along` $axis attr-dict `:` type($input) `->` type($results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Giga_RepeatOp : Giga_Op<"repeat", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "applies one block `count` times, each time with its own parameters";
  let description = [{
    The body receives the carried values, returns their next values with
    `giga.yield`, and is run `count` times in order. Every `giga.param` in
    the body is a distinct tensor per iteration, named
    `<prefix>.<iteration>.<name>` (nanoGPT's `h.0.attn...`), so a model of
    any depth is written, verified and compiled once.

    ```mlir
    %y = giga.repeat 12 "h" (%x) : tensor<8x256x768xf32> {
    ^bb0(%h: tensor<8x256x768xf32>):
      ...
      giga.yield %next : tensor<8x256x768xf32>
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<1>]>:$count,
                       StrAttr:$prefix, Variadic<AnyRankedTensor>:$inits);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $count $prefix `(` $inits `)` attr-dict `:` type($inits) $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$count, "::llvm::StringRef":$prefix,
                   "::mlir::ValueRange":$inits)>
  ];
}

def Giga_YieldOp : Giga_Op<"yield", [Pure, Terminator, ReturnLike,
                                     HasParent<"RepeatOp">]> {
  let summary = "returns the carried values of one `giga.repeat` iteration";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
}

#endif // GIGA_OPS_TD
