//===- GigaVJP.cpp - vector-Jacobian products of the giga ops -------------===//
//
// A table of derivatives: each differentiable op turns the gradients of its
// results into gradients of its operands, using giga ops only. Forward
// values come through VJPContext::forward so the autodiff driver decides
// what is saved for the backward pass.
//
//===----------------------------------------------------------------------===//
#include "dialects/giga/GigaDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace giga;

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

Value matmul(OpBuilder &builder, Location loc, Value lhs, Value rhs,
             bool transposeLhs, bool transposeRhs) {
  RankedTensorType type = inferMatmulType(tensorType(lhs), tensorType(rhs),
                                          transposeLhs, transposeRhs);
  return builder.create<MatmulOp>(loc, type, lhs, rhs, transposeLhs,
                                  transposeRhs);
}

Value reshape(OpBuilder &builder, Location loc, Value value,
              ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, tensorType(value).getElementType());
  return builder.create<ReshapeOp>(loc, type, value);
}

/// The gradient of a value broadcast over leading dimensions to `grad`'s
/// shape: the sum over those dimensions.
Value sumToShapeOf(OpBuilder &builder, Location loc, Value grad, Value like) {
  if (grad.getType() == like.getType())
    return grad;
  return builder.create<ReduceSumOp>(loc, like.getType(), grad);
}

/// [..., rows, cols] -> [product(...) * rows, cols]
Value collapseBatch(OpBuilder &builder, Location loc, Value value) {
  ArrayRef<int64_t> shape = tensorType(value).getShape();
  int64_t rows = 1;
  for (int64_t dim : shape.drop_back())
    rows *= dim;
  return reshape(builder, loc, value, {rows, shape.back()});
}

} // namespace

RankedTensorType giga::inferMatmulType(RankedTensorType lhs,
                                       RankedTensorType rhs, bool transposeLhs,
                                       bool transposeRhs) {
  ArrayRef<int64_t> a = lhs.getShape(), b = rhs.getShape();
  int64_t m = transposeLhs ? a.back() : a[a.size() - 2];
  int64_t n = transposeRhs ? b[b.size() - 2] : b.back();
  SmallVector<int64_t> shape(a.size() >= b.size() ? a.drop_back(2)
                                                  : b.drop_back(2));
  shape.append({m, n});
  return RankedTensorType::get(shape, lhs.getElementType());
}

LogicalResult EmbeddingOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                    ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value tableGrad;
  if (context.needsGrad(getTable()))
    tableGrad = builder.create<EmbeddingGradOp>(getLoc(), getTable().getType(),
                                                resultGrads[0],
                                                context.forward(getIds()));
  operandGrads.append({tableGrad, Value()});
  return success();
}

// C = A' B' with A' = op(A), B' = op(B):  dA' = g B'ᵀ,  dB' = A'ᵀ g.
LogicalResult MatmulOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                 ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value grad = resultGrads[0];
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  // A rank-2 rhs shared by every batch of lhs (a linear layer's weight).
  bool sharedRhs =
      tensorType(getRhs()).getRank() == 2 && tensorType(getLhs()).getRank() > 2;
  Value lhsGrad, rhsGrad;
  if (context.needsGrad(getLhs())) {
    Value rhs = context.forward(getRhs());
    if (!ta)
      lhsGrad = matmul(builder, loc, grad, rhs, false, !tb);
    else if (!sharedRhs)
      lhsGrad = matmul(builder, loc, rhs, grad, tb, true);
    else
      return emitOpError("cannot differentiate a transposed batched lhs "
                         "against a shared rank-2 rhs; transpose the lhs "
                         "explicitly with giga.transpose");
  }
  if (context.needsGrad(getRhs())) {
    Value lhs = context.forward(getLhs());
    if (sharedRhs && !ta) {
      // One large product over all batches: [B*M, K]ᵀ [B*M, N].
      Value rows = collapseBatch(builder, loc, lhs);
      Value gradRows = collapseBatch(builder, loc, grad);
      rhsGrad = tb ? matmul(builder, loc, gradRows, rows, true, false)
                   : matmul(builder, loc, rows, gradRows, true, false);
    } else {
      rhsGrad = tb ? matmul(builder, loc, grad, lhs, true, ta)
                   : matmul(builder, loc, lhs, grad, !ta, false);
      rhsGrad = sumToShapeOf(builder, loc, rhsGrad, getRhs());
    }
  }
  operandGrads.append({lhsGrad, rhsGrad});
  return success();
}

LogicalResult AddOp::buildVJP(OpBuilder &builder, VJPContext &context,
                              ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value grad = resultGrads[0];
  operandGrads.push_back(context.needsGrad(getLhs()) ? grad : Value());
  operandGrads.push_back(context.needsGrad(getRhs())
                             ? sumToShapeOf(builder, getLoc(), grad, getRhs())
                             : Value());
  return success();
}

LogicalResult BiasAddOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                  ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  Value grad = resultGrads[0];
  operandGrads.push_back(context.needsGrad(getInput()) ? grad : Value());
  operandGrads.push_back(context.needsGrad(getBias())
                             ? sumToShapeOf(builder, getLoc(), grad, getBias())
                             : Value());
  return success();
}

LogicalResult LayerNormOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                    ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  auto grads = builder.create<LayerNormGradOp>(
      getLoc(), getInput().getType(), getWeight().getType(),
      getBias().getType(), resultGrads[0], context.forward(getInput()),
      context.forward(getWeight()), getEpsilonAttr());
  operandGrads.append(
      {grads.getInputGrad(), grads.getWeightGrad(), grads.getBiasGrad()});
  return success();
}

LogicalResult RmsNormOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                  ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  auto grads = builder.create<RmsNormGradOp>(
      getLoc(), getInput().getType(), getWeight().getType(), resultGrads[0],
      context.forward(getInput()), context.forward(getWeight()),
      getEpsilonAttr());
  operandGrads.append({grads.getInputGrad(), grads.getWeightGrad()});
  return success();
}

LogicalResult GeluOp::buildVJP(OpBuilder &builder, VJPContext &context,
                               ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(builder.create<GeluGradOp>(
      getLoc(), resultGrads[0], context.forward(getInput()), getTanh()));
  return success();
}

LogicalResult SoftmaxOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                  ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(builder.create<SoftmaxGradOp>(
      getLoc(), resultGrads[0], context.forward(getResult()), getAxisAttr()));
  return success();
}

LogicalResult AttentionOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                    ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (context.needsGrad(getMask()))
    return emitOpError("mask depends on a parameter, but attention is not "
                       "differentiable in its mask; build the mask from "
                       "constants (giga.causal_mask)");
  Type queryType = getQuery().getType(), keyType = getKey().getType();
  auto grads = builder.create<AttentionGradOp>(
      getLoc(), queryType, keyType, keyType, resultGrads[0],
      context.forward(getQuery()), context.forward(getKey()),
      context.forward(getValue()), context.forward(getMask()), getScaleAttr());
  operandGrads.append({grads.getQueryGrad(), grads.getKeyGrad(),
                       grads.getValueGrad(), Value()});
  return success();
}

LogicalResult CrossEntropyOp::buildVJP(OpBuilder &builder, VJPContext &context,
                                       ValueRange resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(builder.create<CrossEntropyGradOp>(
      getLoc(), getLogits().getType(), resultGrads[0],
      context.forward(getLogits()), context.forward(getTargets())));
  operandGrads.push_back(Value());
  return success();
}

LogicalResult
LinearCrossEntropyOp::buildVJP(OpBuilder &builder, VJPContext &context,
                               ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  auto grads = builder.create<LinearCrossEntropyGradOp>(
      getLoc(), getLoss().getType(), getInput().getType(),
      getWeight().getType(), resultGrads[0], context.forward(getInput()),
      context.forward(getWeight()), context.forward(getTargets()),
      getChunkAttr());
  operandGrads.append({grads.getInputGrad(), grads.getWeightGrad(), Value()});
  return success();
}

LogicalResult ReshapeOp::buildVJP(OpBuilder &builder, VJPContext &,
                                  ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(builder.create<ReshapeOp>(
      getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}

LogicalResult TransposeOp::buildVJP(OpBuilder &builder, VJPContext &,
                                    ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> permutation = getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [index, dim] : llvm::enumerate(permutation))
    inverse[dim] = index;
  operandGrads.push_back(builder.create<TransposeOp>(
      getLoc(), getInput().getType(), resultGrads[0], inverse));
  return success();
}

LogicalResult SplitOp::buildVJP(OpBuilder &builder, VJPContext &,
                                ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  SmallVector<Value> parts;
  for (auto [result, grad] : llvm::zip(getResults(), resultGrads))
    parts.push_back(grad
                        ? grad
                        : builder.create<FillOp>(getLoc(), result.getType(),
                                                 builder.getF64FloatAttr(0.0)));
  operandGrads.push_back(builder.create<ConcatOp>(
      getLoc(), getInput().getType(), parts, getAxisAttr()));
  return success();
}
