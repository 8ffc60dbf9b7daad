//===- GigaOps.td - ops of the giga dialect ----------------*- tablegen -*-===//
#ifndef GIGA_OPS_TD
#define GIGA_OPS_TD

include "dialects/giga/GigaDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "dialects/giga/GigaInterfaces.td"
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

def Giga_EmbeddingOp : Giga_Op<"embedding", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
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

def Giga_MatmulOp : Giga_Op<"matmul", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
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

def Giga_AddOp : Giga_Op<"add", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
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

def Giga_BiasAddOp : Giga_Op<"bias_add", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "adds a bias [N] along the last dimension of [..., N]";
  let arguments = (ins Giga_FloatTensor:$input, Giga_FloatTensor:$bias);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_LayerNormOp : Giga_Op<"layernorm", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
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

def Giga_RmsNormOp : Giga_Op<"rmsnorm", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "root-mean-square normalisation over the last dimension";
  let description = [{
    `x * rsqrt(mean(x²) + epsilon) * weight` per row (Zhang & Sennrich,
    2019): layernorm without the mean subtraction and without a bias.
  }];
  let arguments = (ins Giga_FloatTensor:$input, Giga_FloatTensor:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_GeluOp : Giga_Op<"gelu", [Pure, DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, SameOperandsAndResultType]> {
  let summary = "GELU, exact (erf) unless `tanh` asks for the approximation";
  let arguments = (ins Giga_FloatTensor:$input, UnitAttr:$tanh);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input (`tanh` $tanh^)? attr-dict `:` type($result)";
}

def Giga_SoftmaxOp : Giga_Op<"softmax", [Pure, DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, SameOperandsAndResultType]> {
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

def Giga_AttentionOp : Giga_Op<"attention", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "scaled dot-product attention with an explicit additive mask";
  let description = [{
    `softmax(scale * q kᵀ + mask) v` per batch and head, with q of shape
    [B, H, T, D], k and v [B, H, Tk, D] (Tk = T in self-attention; a decode
    step's one query attends over a whole KV cache) and the mask [T, Tk] an
    operand, as gigaGPT passes it.
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
// Generation: a chunk of new tokens at a position, over a KV cache
//===----------------------------------------------------------------------===//

def Giga_PositionsOp : Giga_Op<"positions", [Pure]> {
  let summary = "the positions start, start+1, ..., start+N-1 of a chunk of N tokens";
  let description = [{
    `start` is an i32 [1] (an entry point's input): a generation step's
    first position, for the position embedding.
  }];
  let arguments = (ins Giga_IdTensor:$start);
  let results = (outs StaticShapeTensorOf<[I32]>:$result);
  let assemblyFormat = "$start attr-dict `:` type($start) `->` type($result)";
  let hasVerifier = 1;
}

def Giga_PositionMaskOp : Giga_Op<"position_mask", [Pure]> {
  let summary = "the additive mask [S, Tk] of S queries at start.. over Tk cached keys";
  let description = [{
    Query i sits at position `start + i` and sees the keys at positions up
    to its own: the mask is 0 where key j <= start + i and -inf elsewhere,
    which also hides the rows of a KV cache that hold nothing yet.
  }];
  let arguments = (ins Giga_IdTensor:$start);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$start attr-dict `:` type($start) `->` type($result)";
  let hasVerifier = 1;
}

def Giga_KvCacheOp : Giga_Op<"kv_cache", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "writes a chunk's keys (or values) into a cache that persists, and reads it all";
  let description = [{
    A named cache of shape [B, H, Tk, D] lives across calls of a generation
    program's entry points (one per iteration inside a `giga.repeat`, as a
    parameter is). The op writes `update` [B, H, S, D] into rows `start` to
    `start + S - 1` and returns the whole cache after the write; rows not
    written in this sequence hold stale values, which a `giga.position_mask`
    hides.

    ```mlir
    %keys = giga.kv_cache "attn.k" %k at %start : tensor<1x12x1x64xf32>, tensor<1xi32> -> tensor<1x12x1024x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Giga_FloatTensor:$update,
                       Giga_IdTensor:$start);
  let results = (outs Giga_FloatTensor:$cache);
  let assemblyFormat = [{
    $name $update `at` $start attr-dict `:` type($update) `,` type($start) `->` type($cache)
  }];
  let hasVerifier = 1;
}

def Giga_SliceOp : Giga_Op<"slice", [Pure]> {
  let summary = "a contiguous range of one axis: input[..., start : start + n, ...]";
  let description = [{
    The result's size along `axis` is n; every other dimension is the
    input's. A generation step keeps its last position's activations so the
    output head multiplies one row, not the whole chunk.
  }];
  let arguments = (ins Giga_FloatTensor:$input, I64Attr:$axis, I64Attr:$start);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input `along` $axis `from` $start attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def Giga_CrossEntropyOp : Giga_Op<"cross_entropy", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "mean cross-entropy of logits [..., V] against integer targets [...]";
  let arguments = (ins Giga_FloatTensor:$logits, Giga_IdTensor:$targets);
  let results = (outs Giga_F32Scalar:$loss);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_LinearCrossEntropyOp : Giga_Op<"linear_cross_entropy", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "cross_entropy(matmul(input, weight, transpose_rhs), targets) without the logits";
  let description = [{
    The mean cross-entropy of the logits `input @ weightᵀ` ([..., V] for
    input [..., C] and weight [V, C], a GPT's tied head) against `targets`,
    computed `chunk` vocabulary columns at a time (all of them if there are
    fewer) so that only [rows, chunk] logits ever exist.
    `giga-fuse-linear-cross-entropy` makes it from a matmul and a
    cross_entropy.
  }];
  let arguments = (ins Giga_FloatTensor:$input, Giga_FloatTensor:$weight,
                       Giga_IdTensor:$targets,
                       ConfinedAttr<I64Attr, [IntPositive]>:$chunk);
  let results = (outs Giga_F32Scalar:$loss);
  let assemblyFormat = [{
    $input `,` $weight `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Giga_ReshapeOp : Giga_Op<"reshape", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "reinterprets a tensor under another shape of the same size";
  let arguments = (ins Giga_FloatTensor:$input);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Giga_TransposeOp : Giga_Op<"transpose", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
  let summary = "permutes dimensions: result dim i is input dim permutation[i]";
  let arguments = (ins Giga_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Giga_SplitOp : Giga_Op<"split", [DeclareOpInterfaceMethods<Giga_DifferentiableOpInterface>, Pure]> {
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
    AttrSizedOperandSegments]> {
  let summary = "applies one block `count` times, each time with its own parameters";
  let description = [{
    A scan over layers. The body receives the carried values (`inits` on the
    first iteration) followed by this iteration's slice of each `slices`
    operand (whose leading dimension is `count`), and yields the next
    carried values followed by one value per stacked result; results are
    the final carried values, then the stacked per-iteration values with a
    leading dimension of `count`. With `reverse` the iterations run from
    `count - 1` down to 0.

    Every `giga.param` in the body is a distinct tensor per iteration index,
    named `<prefix>.<index>.<name>` (nanoGPT's `h.0.attn...`), so a model of
    any depth is written, verified and compiled once. The backward of a
    repeat is a reverse repeat whose slices are the forward's saved
    activations.

    ```mlir
    %y = giga.repeat 12 "h" (%x : tensor<8x256x768xf32>) -> tensor<8x256x768xf32> {
    ^bb0(%h: tensor<8x256x768xf32>):
      ...
      giga.yield %next : tensor<8x256x768xf32>
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<1>]>:$count,
                       StrAttr:$prefix, UnitAttr:$reverse,
                       Variadic<AnyRankedTensor>:$inits,
                       Variadic<AnyRankedTensor>:$slices);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $count $prefix (`reverse` $reverse^)? `(` ($inits^ `:` type($inits))? `)`
    (`slices` `(` $slices^ `:` type($slices) `)`)?
    (`->` type($results)^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$count, "::llvm::StringRef":$prefix,
                   "::mlir::ValueRange":$inits,
                   CArg<"::mlir::ValueRange", "{}">:$slices,
                   CArg<"::mlir::TypeRange", "{}">:$stackedTypes,
                   CArg<"bool", "false">:$reverse)>
  ];
  let extraClassDeclaration = [{
    /// The final carried values.
    ::mlir::ResultRange getCarriedResults() {
      return getResults().take_front(getInits().size());
    }
    /// The per-iteration values, stacked along a new leading dimension.
    ::mlir::ResultRange getStackedResults() {
      return getResults().drop_front(getInits().size());
    }
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

def Giga_YieldOp : Giga_Op<"yield", [Pure, Terminator, ReturnLike,
                                     HasParent<"RepeatOp">]> {
  let summary = "ends one `giga.repeat` iteration: carried values, then stacked ones";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
}

//===----------------------------------------------------------------------===//
// Backward ops: the pieces of VJPs that are not compositions of forward ops
//===----------------------------------------------------------------------===//

def Giga_FillOp : Giga_Op<"fill", [Pure]> {
  let summary = "a tensor with every element equal to `value` (the loss seed, zeros)";
  let arguments = (ins F64Attr:$value);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

def Giga_ReduceSumOp : Giga_Op<"reduce_sum", [Pure]> {
  let summary = "sums over leading dimensions, down to a suffix of the shape";
  let description = [{
    The gradient of a broadcast: bias [N] from [B, T, N], the position
    embedding [T, C] from [B, T, C].
  }];
  let arguments = (ins Giga_FloatTensor:$input);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Giga_ConcatOp : Giga_Op<"concat", [Pure]> {
  let summary = "joins tensors along one axis (the gradient of split)";
  let arguments = (ins Variadic<Giga_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs Giga_FloatTensor:$result);
  let assemblyFormat = [{
    $inputs `along` $axis attr-dict `:` type($inputs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Giga_EmbeddingGradOp : Giga_Op<"embedding_grad", [Pure]> {
  let summary = "scatter-adds the rows of `grad` into a table gradient [V, C]";
  let arguments = (ins Giga_FloatTensor:$grad, Giga_IdTensor:$ids);
  let results = (outs Giga_FloatTensor:$table_grad);
  let assemblyFormat = "$grad `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Giga_LayerNormGradOp : Giga_Op<"layernorm_grad", [Pure]> {
  let summary = "gradients of layernorm for its input, weight and bias";
  let description = [{
    Recomputes the mean and reciprocal deviation from `input` (one pass over
    a row) rather than saving them, so the forward keeps one tensor.
  }];
  let arguments = (ins Giga_FloatTensor:$grad, Giga_FloatTensor:$input,
                       Giga_FloatTensor:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Giga_FloatTensor:$input_grad,
                      Giga_FloatTensor:$weight_grad,
                      Giga_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_RmsNormGradOp : Giga_Op<"rmsnorm_grad", [Pure]> {
  let summary = "gradients of rmsnorm for its input and weight";
  let description = [{
    Recomputes the reciprocal root mean square from `input` rather than
    saving it, as layernorm_grad does.
  }];
  let arguments = (ins Giga_FloatTensor:$grad, Giga_FloatTensor:$input,
                       Giga_FloatTensor:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Giga_FloatTensor:$input_grad,
                      Giga_FloatTensor:$weight_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_GeluGradOp : Giga_Op<"gelu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "grad * gelu'(input), exact or `tanh`";
  let arguments = (ins Giga_FloatTensor:$grad, Giga_FloatTensor:$input,
                       UnitAttr:$tanh);
  let results = (outs Giga_FloatTensor:$input_grad);
  let assemblyFormat = "$grad `,` $input (`tanh` $tanh^)? attr-dict `:` type($input_grad)";
}

def Giga_SoftmaxGradOp : Giga_Op<"softmax_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "y * (grad - sum(grad * y)) along the axis, from the softmax output y";
  let arguments = (ins Giga_FloatTensor:$grad, Giga_FloatTensor:$output,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Giga_FloatTensor:$input_grad);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($input_grad)";
}

def Giga_AttentionGradOp : Giga_Op<"attention_grad", [Pure]> {
  let summary = "gradients of giga.attention for query, key and value";
  let description = [{
    Recomputes the attention probabilities from q, k and the mask (as
    FlashAttention's backward does) instead of saving [B, H, T, T].
  }];
  let arguments = (ins Giga_FloatTensor:$grad, Giga_FloatTensor:$query,
                       Giga_FloatTensor:$key, Giga_FloatTensor:$value,
                       Giga_FloatTensor:$mask, F64Attr:$scale);
  let results = (outs Giga_FloatTensor:$query_grad, Giga_FloatTensor:$key_grad,
                      Giga_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $grad `,` $query `,` $key `,` $value `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_CrossEntropyGradOp : Giga_Op<"cross_entropy_grad", [Pure]> {
  let summary = "grad * (softmax(logits) - onehot(targets)) / count";
  let arguments = (ins Giga_F32Scalar:$grad, Giga_FloatTensor:$logits,
                       Giga_IdTensor:$targets);
  let results = (outs Giga_FloatTensor:$logits_grad);
  let assemblyFormat = [{
    $grad `,` $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_LinearCrossEntropyGradOp : Giga_Op<"linear_cross_entropy_grad", [Pure]> {
  let summary = "giga.linear_cross_entropy's loss again, with the gradients of its input and weight";
  let description = [{
    Computes the loss as the forward op does (the same bits), then each
    chunk of logits again, turned in place into `grad / rows * (softmax -
    onehot)`, whose products add into `input_grad` and give the chunk's rows
    of `weight_grad`. A training step that reads this loss need not run the
    forward op: wafer-partition puts that in a kernel only eval_step runs.
  }];
  let arguments = (ins Giga_F32Scalar:$grad, Giga_FloatTensor:$input,
                       Giga_FloatTensor:$weight, Giga_IdTensor:$targets,
                       ConfinedAttr<I64Attr, [IntPositive]>:$chunk);
  let results = (outs Giga_F32Scalar:$loss, Giga_FloatTensor:$input_grad,
                      Giga_FloatTensor:$weight_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Giga_ParamGradOp : Giga_Op<"param_grad", [MemoryEffects<[MemWrite]>]> {
  let summary = "hands a parameter's gradient to the weight store";
  let description = [{
    The store accumulates it (across micro-batches) for the parameter named
    as `giga.param` names it: inside a `giga.repeat`, per iteration index.
  }];
  let arguments = (ins StrAttr:$name, Giga_FloatTensor:$grad);
  let assemblyFormat = "$name `,` $grad attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The optimizer step: runs in the weight store, not on the wafer
//===----------------------------------------------------------------------===//

def Giga_StoreOp : Giga_Op<"store", [NoTerminator, SingleBlock,
                                     RecursiveMemoryEffects]> {
  let summary = "the ops inside run in the weight store (MemoryX), not on the wafer";
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
}

def Giga_GradNormOp : Giga_Op<"grad_norm", [MemoryEffects<[MemRead]>,
                                            HasParent<"StoreOp">]> {
  let summary = "the global L2 norm of every parameter's gradient in the store";
  let results = (outs Giga_F32Scalar:$norm);
  let assemblyFormat = "attr-dict `:` type($norm)";
}

def Giga_ClipScaleOp : Giga_Op<"clip_scale", [Pure]> {
  let summary = "min(1, max_norm / (norm + 1e-6)), torch's clip_grad_norm_ factor";
  let arguments = (ins Giga_F32Scalar:$norm, F64Attr:$max_norm);
  let results = (outs Giga_F32Scalar:$scale);
  let assemblyFormat = "$norm attr-dict `:` type($scale)";
  let hasVerifier = 1;
}

def Giga_LrScheduleOp : Giga_Op<"lr_schedule", [Pure]> {
  let summary = "linear warmup from 0, then cosine decay to min_ratio x the peak";
  let description = [{
    lr(step) = peak * step / warmup for step < warmup; then
    peak * (min_ratio + (1 - min_ratio) * (1 + cos(pi * t)) / 2) with
    t = min(1, (step - warmup) / decay_steps).
  }];
  let arguments = (ins Giga_I64Scalar:$step, F64Attr:$learning_rate,
                       I64Attr:$warmup_steps, I64Attr:$decay_steps,
                       DefaultValuedAttr<F64Attr, "0.1">:$min_ratio);
  let results = (outs Giga_F32Scalar:$lr);
  let assemblyFormat = "$step attr-dict `:` type($lr)";
  let hasVerifier = 1;
}

class Giga_UpdateOp<string mnemonic> : Giga_Op<mnemonic, [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let assemblyFormat = [{
    $name `lr` `(` $lr `)` `scale` `(` $grad_scale `)` `step` `(` $step `)`
    attr-dict `:` $param_type
  }];
  let hasVerifier = 1;
}

def Giga_AdamWOp : Giga_UpdateOp<"adamw"> {
  let summary = "AdamW on one parameter: bias-corrected moments, decoupled decay";
  let description = [{
    g = grad * grad_scale; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²;
    p -= lr * (weight_decay * p + m̂ / (sqrt(v̂) + epsilon)) with
    m̂ = m / (1 - b1^step), v̂ = v / (1 - b2^step) and step counted from 1.
  }];
  let arguments = (ins StrAttr:$name, TypeAttr:$param_type,
                       Giga_F32Scalar:$lr, Giga_F32Scalar:$grad_scale,
                       Giga_I64Scalar:$step, F64Attr:$beta1, F64Attr:$beta2,
                       F64Attr:$epsilon, F64Attr:$weight_decay);
}

def Giga_SgdOp : Giga_UpdateOp<"sgd"> {
  let summary = "SGD with momentum on one parameter (torch.optim.SGD)";
  let description = [{
    g = grad * grad_scale + weight_decay * p; b = momentum * b + g (b = g on
    the first step); p -= lr * b.
  }];
  let arguments = (ins StrAttr:$name, TypeAttr:$param_type,
                       Giga_F32Scalar:$lr, Giga_F32Scalar:$grad_scale,
                       Giga_I64Scalar:$step, F64Attr:$momentum,
                       F64Attr:$weight_decay);
}

#endif // GIGA_OPS_TD
