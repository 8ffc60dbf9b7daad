//===- Builder.cpp - a small graph builder over OpBuilder -----------------===//
#include "frontend/Builder.h"

using namespace mlir;

namespace giga {

RankedTensorType GraphBuilder::f32(ArrayRef<int64_t> shape) const {
  return RankedTensorType::get(shape, builder.getF32Type());
}

RankedTensorType GraphBuilder::ids(ArrayRef<int64_t> shape) const {
  return RankedTensorType::get(shape, builder.getI32Type());
}

ArrayRef<int64_t> GraphBuilder::shape(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

std::string GraphBuilder::scoped(StringRef name) const {
  std::string full;
  for (const std::string &scope : scopes)
    full += scope + ".";
  return full + name.str();
}

Value GraphBuilder::param(StringRef name, ArrayRef<int64_t> shape, Init init) {
  FloatAttr std = init.kind == InitKind::normal
                      ? builder.getF64FloatAttr(init.std)
                      : nullptr;
  return builder.create<ParamOp>(loc, f32(shape), scoped(name), init.kind, std);
}

Value GraphBuilder::linear(StringRef name, Value x, int64_t outFeatures,
                           double initStd) {
  int64_t inFeatures = shape(x).back();
  scopes.push_back(name.str());
  Value weight =
      param("weight", {outFeatures, inFeatures}, Init::normal(initStd));
  Value bias = param("bias", {outFeatures}, Init::zeros());
  scopes.pop_back();
  return biasAdd(matmul(x, weight, false, true), bias);
}

Value GraphBuilder::layerNorm(StringRef name, Value x, double epsilon) {
  int64_t width = shape(x).back();
  scopes.push_back(name.str());
  Value weight = param("weight", {width}, Init::ones());
  Value bias = param("bias", {width}, Init::zeros());
  scopes.pop_back();
  return builder.create<LayerNormOp>(loc, x.getType(), x, weight, bias,
                                     builder.getF64FloatAttr(epsilon));
}

Value GraphBuilder::rmsNorm(StringRef name, Value x, double epsilon) {
  scopes.push_back(name.str());
  Value weight = param("weight", {shape(x).back()}, Init::ones());
  scopes.pop_back();
  return builder.create<RmsNormOp>(loc, x.getType(), x, weight,
                                   builder.getF64FloatAttr(epsilon));
}

Value GraphBuilder::embedding(Value table, Value ids) {
  SmallVector<int64_t> result(shape(ids));
  result.push_back(shape(table)[1]);
  return builder.create<EmbeddingOp>(loc, f32(result), table, ids);
}

Value GraphBuilder::iota(int64_t count) {
  return builder.create<IotaOp>(loc, ids({count}));
}

Value GraphBuilder::matmul(Value lhs, Value rhs, bool transposeLhs,
                           bool transposeRhs) {
  RankedTensorType type = inferMatmulType(cast<RankedTensorType>(lhs.getType()),
                                          cast<RankedTensorType>(rhs.getType()),
                                          transposeLhs, transposeRhs);
  return builder.create<MatmulOp>(loc, type, lhs, rhs, transposeLhs,
                                  transposeRhs);
}

Value GraphBuilder::add(Value lhs, Value rhs) {
  return builder.create<AddOp>(loc, lhs.getType(), lhs, rhs);
}

Value GraphBuilder::biasAdd(Value x, Value bias) {
  return builder.create<BiasAddOp>(loc, x.getType(), x, bias);
}

Value GraphBuilder::gelu(Value x, bool tanh) {
  return builder.create<GeluOp>(loc, x, tanh);
}

Value GraphBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  return builder.create<ReshapeOp>(loc, f32(shape), x);
}

Value GraphBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  SmallVector<int64_t> result;
  for (int64_t dim : permutation)
    result.push_back(shape(x)[dim]);
  return builder.create<TransposeOp>(loc, f32(result), x, permutation);
}

Value GraphBuilder::causalMask(int64_t sequence) {
  return builder.create<CausalMaskOp>(loc, f32({sequence, sequence}));
}

Value GraphBuilder::positions(Value start, int64_t count) {
  return builder.create<PositionsOp>(loc, ids({count}), start);
}

Value GraphBuilder::positionMask(Value start, int64_t queries, int64_t keys) {
  return builder.create<PositionMaskOp>(loc, f32({queries, keys}), start);
}

Value GraphBuilder::kvCache(StringRef name, Value update, Value start,
                            int64_t rows) {
  SmallVector<int64_t> cache(shape(update));
  cache[2] = rows;
  return builder.create<KvCacheOp>(
      loc, f32(cache), builder.getStringAttr(scoped(name)), update, start);
}

Value GraphBuilder::slice(Value x, int64_t axis, int64_t start, int64_t size) {
  SmallVector<int64_t> result(shape(x));
  result[axis] = size;
  return builder.create<SliceOp>(loc, f32(result), x,
                                 builder.getI64IntegerAttr(axis),
                                 builder.getI64IntegerAttr(start));
}

Value GraphBuilder::attention(Value q, Value k, Value v, Value mask,
                              double scale) {
  return builder.create<AttentionOp>(loc, q.getType(), q, k, v, mask,
                                     builder.getF64FloatAttr(scale));
}

Value GraphBuilder::crossEntropy(Value logits, Value targets) {
  return builder.create<CrossEntropyOp>(loc, f32({}), logits, targets);
}

Value GraphBuilder::repeat(int64_t count, StringRef prefix, Value init,
                           function_ref<Value(Value)> body) {
  auto repeatOp = builder.create<RepeatOp>(loc, count, prefix, init);
  OpBuilder::InsertionGuard guard(builder);
  Block &block = repeatOp.getBody().front();
  builder.setInsertionPointToStart(&block);
  Value next = body(block.getArgument(0));
  builder.create<YieldOp>(loc, next);
  return repeatOp.getResult(0);
}

} // namespace giga
