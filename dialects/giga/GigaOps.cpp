//===- GigaOps.cpp - verifiers of the giga ops ----------------------------===//
//
// Every verifier names the operand at fault and gives the expected and the
// actual shape, so a frontend author can fix the model without reading ODS.
//
//===----------------------------------------------------------------------===//
#include "dialects/giga/GigaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace giga;

namespace {
std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleave(shape, os, ", ");
  os << "]";
  return text;
}

// Diagnostics print numbers as a user writes them: 0.5, not 5.000000e-01.
std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

// Emits "<what> has shape [..] but expected [..]" unless the shapes agree.
LogicalResult expectShape(Operation *op, StringRef what, Value value,
                          ArrayRef<int64_t> expected, StringRef why = "") {
  if (shapeOf(value) == expected)
    return success();
  auto diag = op->emitOpError()
              << what << " has shape " << formatShape(shapeOf(value))
              << " but expected " << formatShape(expected);
  if (!why.empty())
    diag << " (" << why << ")";
  return diag;
}

LogicalResult expectRank(Operation *op, StringRef what, Value value,
                         int64_t minRank) {
  int64_t rank = shapeOf(value).size();
  if (rank >= minRank)
    return success();
  return op->emitOpError() << what << " must have rank >= " << minRank
                           << " but has shape " << formatShape(shapeOf(value));
}
} // namespace

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name, e.g. \"wte.weight\"");
  std::optional<double> std;
  if (FloatAttr stdAttr = getStdAttr())
    std = stdAttr.getValueAsDouble();
  if (getInit() == InitKind::normal) {
    if (!std)
      return emitOpError("with 'normal' init needs a standard deviation: add "
                         "'std <value>'");
    if (!(*std > 0.0) || std::isinf(*std))
      return emitOpError("std must be positive and finite but is ")
             << formatNumber(*std);
  } else if (std) {
    return emitOpError("'")
           << stringifyInitKind(getInit())
           << "' init takes no std; remove 'std " << formatNumber(*std) << "'";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Dense and elementwise ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> table = shapeOf(getTable());
  if (table.size() != 2)
    return emitOpError("table must have shape [vocab, width] but has shape ")
           << formatShape(table);
  SmallVector<int64_t> expected(shapeOf(getIds()));
  expected.push_back(table[1]);
  return expectShape(*this, "result", getResult(), expected,
                     "the ids' shape followed by the table width");
}

LogicalResult MatmulOp::verify() {
  if (failed(expectRank(*this, "lhs", getLhs(), 2)) ||
      failed(expectRank(*this, "rhs", getRhs(), 2)))
    return failure();
  ArrayRef<int64_t> lhs = shapeOf(getLhs()), rhs = shapeOf(getRhs());
  int64_t m = lhs[lhs.size() - 2], lhsK = lhs.back();
  if (getTransposeLhs())
    std::swap(m, lhsK);
  int64_t rhsK = rhs[rhs.size() - 2], n = rhs.back();
  if (getTransposeRhs())
    std::swap(rhsK, n);
  if (lhsK != rhsK)
    return emitOpError("contraction dimensions differ: lhs has ")
           << lhsK << " and rhs has " << rhsK << " (lhs " << formatShape(lhs)
           << ", rhs " << formatShape(rhs)
           << ", transpose_lhs=" << getTransposeLhs()
           << ", transpose_rhs=" << getTransposeRhs() << ")";
  ArrayRef<int64_t> lhsBatch = lhs.drop_back(2), rhsBatch = rhs.drop_back(2);
  if (!rhsBatch.empty() && rhsBatch != lhsBatch)
    return emitOpError("rhs batch dimensions ")
           << formatShape(rhsBatch) << " must equal lhs batch dimensions "
           << formatShape(lhsBatch) << " or be absent (a shared rank-2 rhs)";
  SmallVector<int64_t> expected(lhsBatch);
  expected.append({m, n});
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult AddOp::verify() {
  ArrayRef<int64_t> lhs = shapeOf(getLhs()), rhs = shapeOf(getRhs());
  if (rhs.size() > lhs.size() || lhs.take_back(rhs.size()) != rhs)
    return emitOpError("rhs has shape ")
           << formatShape(rhs) << " but expected " << formatShape(lhs)
           << " or a suffix of it (the lhs shape)";
  return expectShape(*this, "result", getResult(), lhs);
}

LogicalResult BiasAddOp::verify() {
  if (failed(expectRank(*this, "input", getInput(), 1)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (failed(expectShape(*this, "bias", getBias(), {input.back()},
                         "the last dimension of the input")))
    return failure();
  return expectShape(*this, "result", getResult(), input);
}

namespace {
/// layernorm and rmsnorm: a rank >= 1 input, a weight (and for layernorm a
/// bias) over its last dimension, a positive epsilon, the input's shape out.
LogicalResult verifyNorm(Operation *op, Value input, Value weight, Value bias,
                         double epsilon, Value result) {
  if (failed(expectRank(op, "input", input, 1)))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(input);
  if (failed(expectShape(op, "weight", weight, {shape.back()},
                         "the last dimension of the input")) ||
      (bias && failed(expectShape(op, "bias", bias, {shape.back()},
                                  "the last dimension of the input"))))
    return failure();
  if (!(epsilon > 0.0))
    return op->emitOpError("epsilon must be positive but is ")
           << formatNumber(epsilon);
  return expectShape(op, "result", result, shape);
}
} // namespace

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput(), getWeight(), getBias(),
                    getEpsilon().convertToDouble(), getResult());
}
LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, getInput(), getWeight(), Value(),
                    getEpsilon().convertToDouble(), getResult());
}
LogicalResult SoftmaxOp::verify() {
  int64_t rank = shapeOf(getInput()).size();
  int64_t axis = getAxisAttr().getInt();
  if (axis < -rank || axis >= rank)
    return emitOpError("axis ")
           << axis << " is out of range for rank " << rank << " (use -" << rank
           << " to " << rank - 1 << ")";
  return success();
}

LogicalResult IotaOp::verify() {
  ArrayRef<int64_t> shape = shapeOf(getResult());
  if (shape.size() != 1)
    return emitOpError("result must have rank 1 but has shape ")
           << formatShape(shape);
  return success();
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

LogicalResult CausalMaskOp::verify() {
  ArrayRef<int64_t> shape = shapeOf(getResult());
  if (shape.size() != 2 || shape[0] != shape[1])
    return emitOpError("result must be a square [T, T] mask but has shape ")
           << formatShape(shape);
  return success();
}

/// Attention's q [B, H, T, D], k and v [B, H, Tk, D] and mask [T, Tk],
/// shared by the op and its gradient; the query's and the key's shapes.
static LogicalResult verifyAttentionOperands(Operation *op, Value query,
                                             Value key, Value value,
                                             Value mask) {
  ArrayRef<int64_t> q = shapeOf(query), k = shapeOf(key);
  if (q.size() != 4)
    return op->emitOpError("query must have shape [batch, heads, seq, "
                           "head_dim] but has shape ")
           << formatShape(q);
  if (k.size() != 4)
    return op->emitOpError("key must have shape [batch, heads, keys, "
                           "head_dim] but has shape ")
           << formatShape(k);
  if (failed(expectShape(op, "key", key, {q[0], q[1], k[2], q[3]},
                         "the query's batch, heads and head_dim")) ||
      failed(expectShape(op, "value", value, k, "the key's shape")))
    return failure();
  return expectShape(op, "mask", mask, {q[2], k[2]}, "[seq, keys]");
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> query = shapeOf(getQuery());
  if (failed(verifyAttentionOperands(*this, getQuery(), getKey(), getValue(),
                                     getMask())))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("scale must be positive but is ")
           << formatNumber(getScale().convertToDouble());
  return expectShape(*this, "result", getResult(), query);
}

//===----------------------------------------------------------------------===//
// Generation
//===----------------------------------------------------------------------===//

/// A generation step's start position: one i32, an entry point's input.
static LogicalResult verifyStart(Operation *op, Value start) {
  auto type = cast<RankedTensorType>(start.getType());
  if (!type.getElementType().isInteger(32) ||
      type.getShape() != ArrayRef<int64_t>{1})
    return op->emitOpError("start must be one position, tensor<1xi32>, but is ")
           << type;
  return success();
}

LogicalResult PositionsOp::verify() {
  if (failed(verifyStart(*this, getStart())))
    return failure();
  if (shapeOf(getResult()).size() != 1)
    return emitOpError("result must have rank 1 but has shape ")
           << formatShape(shapeOf(getResult()));
  return success();
}

LogicalResult PositionMaskOp::verify() {
  if (failed(verifyStart(*this, getStart())))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(getResult());
  if (shape.size() != 2)
    return emitOpError("result must be a mask [S, Tk] but has shape ")
           << formatShape(shape);
  if (shape[0] > shape[1])
    return emitOpError("has more queries than keys: ")
           << formatShape(shape) << " cannot hold a chunk and its past";
  return success();
}

LogicalResult KvCacheOp::verify() {
  if (getName().empty())
    return emitOpError("needs a cache name");
  if (failed(verifyStart(*this, getStart())))
    return failure();
  ArrayRef<int64_t> update = shapeOf(getUpdate()), cache = shapeOf(getCache());
  if (update.size() != 4)
    return emitOpError("update must be [B, H, S, D] but has shape ")
           << formatShape(update);
  if (cache.size() != 4 || cache[0] != update[0] || cache[1] != update[1] ||
      cache[3] != update[3] || cache[2] < update[2])
    return emitOpError("cache must be [B, H, Tk, D] with the update's B, H "
                       "and D and Tk >= its ")
           << update[2] << " rows, but the update is " << formatShape(update)
           << " and the cache " << formatShape(cache);
  return success();
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput()), result = shapeOf(getResult());
  int64_t rank = input.size(), axis = getAxis(), start = getStart();
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  SmallVector<int64_t> expected(input);
  expected[axis] = result.size() == input.size() ? result[axis] : 0;
  if (failed(expectShape(*this, "result", getResult(), expected,
                         "the input's but along the axis")))
    return failure();
  if (start < 0 || start + result[axis] > input[axis])
    return emitOpError("takes rows ")
           << start << " to " << start + result[axis] - 1 << " of axis " << axis
           << ", which has " << input[axis];
  return success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

LogicalResult CrossEntropyOp::verify() {
  if (failed(expectRank(*this, "logits", getLogits(), 2)))
    return failure();
  return expectShape(*this, "targets", getTargets(),
                     shapeOf(getLogits()).drop_back(),
                     "the logits' shape without the vocabulary dimension");
}

/// The operands shared by linear_cross_entropy and its gradient: input
/// [..., C], weight [V, C], targets [...].
static LogicalResult verifyLinearCrossEntropy(Operation *op, Value input,
                                              Value weight, Value targets) {
  if (failed(expectRank(op, "input", input, 2)) ||
      failed(expectRank(op, "weight", weight, 2)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(input), w = shapeOf(weight);
  if (w.size() != 2 || w[1] != in.back())
    return op->emitOpError()
           << "weight has shape " << formatShape(w) << " but expected [V, "
           << in.back() << "] (one row of the input's width per class)";
  return expectShape(op, "targets", targets, in.drop_back(),
                     "the input's shape without the channel dimension");
}

LogicalResult LinearCrossEntropyOp::verify() {
  return verifyLinearCrossEntropy(*this, getInput(), getWeight(), getTargets());
}

LogicalResult LinearCrossEntropyGradOp::verify() {
  if (failed(verifyLinearCrossEntropy(*this, getInput(), getWeight(),
                                      getTargets())) ||
      failed(expectShape(*this, "input_grad", getInputGrad(),
                         shapeOf(getInput()), "the input's shape")))
    return failure();
  return expectShape(*this, "weight_grad", getWeightGrad(),
                     shapeOf(getWeight()), "the weight's shape");
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto result = cast<ShapedType>(getResult().getType());
  if (input.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << formatShape(input.getShape()) << " (" << input.getNumElements()
           << " elements) to " << formatShape(result.getShape()) << " ("
           << result.getNumElements() << " elements)";
  return success();
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> permutation = getPermutation();
  if (permutation.size() != input.size())
    return emitOpError("permutation has ")
           << permutation.size() << " entries but the input has rank "
           << input.size();
  SmallVector<bool> seen(input.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= static_cast<int64_t>(input.size()) || seen[dim])
      return emitOpError("permutation ")
             << formatShape(permutation) << " is not a permutation of 0.."
             << input.size() - 1;
    seen[dim] = true;
    expected.push_back(input[dim]);
  }
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult SplitOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t rank = input.size(), axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  int64_t parts = getResults().size();
  if (parts == 0)
    return emitOpError("needs at least one result");
  if (input[axis] % parts != 0)
    return emitOpError("cannot split dimension ")
           << axis << " of size " << input[axis] << " into " << parts
           << " equal parts";
  SmallVector<int64_t> expected(input);
  expected[axis] /= parts;
  for (auto [index, result] : llvm::enumerate(getResults()))
    if (failed(expectShape(*this, "result #" + std::to_string(index), result,
                           expected)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RepeatOp
//===----------------------------------------------------------------------===//

namespace {
RankedTensorType dropLeading(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return RankedTensorType::get(tensor.getShape().drop_front(),
                               tensor.getElementType());
}

RankedTensorType prependDim(int64_t dim, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape{dim};
  llvm::append_range(shape, tensor.getShape());
  return RankedTensorType::get(shape, tensor.getElementType());
}
} // namespace

void RepeatOp::build(OpBuilder &builder, OperationState &state, int64_t count,
                     StringRef prefix, ValueRange inits, ValueRange slices,
                     TypeRange stackedTypes, bool reverse) {
  state.addAttribute(getCountAttrName(state.name),
                     builder.getI64IntegerAttr(count));
  state.addAttribute(getPrefixAttrName(state.name),
                     builder.getStringAttr(prefix));
  if (reverse)
    state.addAttribute(getReverseAttrName(state.name), builder.getUnitAttr());
  state.addOperands(inits);
  state.addOperands(slices);
  state.addAttribute(getOperandSegmentSizesAttrName(state.name),
                     builder.getDenseI32ArrayAttr(
                         {int32_t(inits.size()), int32_t(slices.size())}));
  state.addTypes(inits.getTypes());
  for (Type type : stackedTypes)
    state.addTypes(prependDim(count, type));
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value init : inits)
    block->addArgument(init.getType(), state.location);
  for (Value slice : slices)
    block->addArgument(dropLeading(slice.getType()), state.location);
}

LogicalResult RepeatOp::verify() {
  if (getPrefix().empty())
    return emitOpError("needs a non-empty prefix for its parameters, e.g. "
                       "\"h\"");
  int64_t count = getCount();
  SmallVector<Type> arguments(getInits().getTypes());
  for (auto [index, slice] : llvm::enumerate(getSlices())) {
    ArrayRef<int64_t> shape = shapeOf(slice);
    if (shape.empty() || shape.front() != count)
      return emitOpError("slices operand #")
             << index << " has shape " << formatShape(shape)
             << " but its leading dimension must be the count " << count;
    arguments.push_back(dropLeading(slice.getType()));
  }
  size_t carried = getInits().size();
  if (getResults().size() < carried ||
      getCarriedResults().getTypes() != getInits().getTypes())
    return emitOpError("results must begin with the carried types ")
           << getInits().getTypes();
  SmallVector<Type> yielded(getInits().getTypes());
  for (auto [index, stacked] : llvm::enumerate(getStackedResults())) {
    ArrayRef<int64_t> shape = shapeOf(stacked);
    if (shape.empty() || shape.front() != count)
      return emitOpError("stacked result #")
             << index << " has shape " << formatShape(shape)
             << " but its leading dimension must be the count " << count;
    yielded.push_back(dropLeading(stacked.getType()));
  }
  Block &body = getBodyBlock();
  if (body.getArgumentTypes() != TypeRange(arguments))
    return emitOpError("body arguments ")
           << body.getArgumentTypes()
           << " must be the carried types followed by one slice of each "
              "slices operand: "
           << arguments;
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getValues().getTypes() != TypeRange(yielded))
    return yield.emitOpError("yields ")
           << yield.getValues().getTypes()
           << " but the enclosing giga.repeat expects the carried types "
              "followed by one slice of each stacked result: "
           << yielded;
  return success();
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput()), result = shapeOf(getResult());
  if (result.size() > input.size() || input.take_back(result.size()) != result)
    return emitOpError("result shape ")
           << formatShape(result) << " must be a suffix of the input shape "
           << formatShape(input);
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  ArrayRef<int64_t> first = shapeOf(getInputs().front());
  int64_t rank = first.size(), axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  SmallVector<int64_t> expected(first);
  expected[axis] = 0;
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    SmallVector<int64_t> shape(shapeOf(input));
    if (shape.size() != first.size())
      return emitOpError("input #") << index << " has rank " << shape.size()
                                    << " but input #0 has rank " << rank;
    expected[axis] += shape[axis];
    shape[axis] = first[axis];
    if (ArrayRef<int64_t>(shape) != first)
      return emitOpError("input #")
             << index << " has shape " << formatShape(shapeOf(input))
             << " which differs from input #0 " << formatShape(first)
             << " outside axis " << axis;
  }
  return expectShape(*this, "result", getResult(), expected);
}

LogicalResult EmbeddingGradOp::verify() {
  ArrayRef<int64_t> table = shapeOf(getTableGrad());
  if (table.size() != 2)
    return emitOpError("table_grad must have shape [vocab, width] but has "
                       "shape ")
           << formatShape(table);
  SmallVector<int64_t> expected(shapeOf(getIds()));
  expected.push_back(table[1]);
  return expectShape(*this, "grad", getGrad(), expected,
                     "the ids' shape followed by the table width");
}

namespace {
/// layernorm_grad and rmsnorm_grad: grad and input_grad of the input's
/// shape, weight and weight_grad (and for layernorm bias_grad) over its last
/// dimension.
LogicalResult verifyNormGrad(Operation *op, Value grad, Value input,
                             Value weight, Value inputGrad, Value weightGrad,
                             Value biasGrad) {
  if (failed(
          expectShape(op, "grad", grad, shapeOf(input), "the input's shape")) ||
      failed(expectRank(op, "input", input, 1)))
    return failure();
  int64_t width = shapeOf(input).back();
  if (failed(expectShape(op, "weight", weight, {width},
                         "the last dimension of the input")) ||
      failed(expectShape(op, "input_grad", inputGrad, shapeOf(input))) ||
      failed(expectShape(op, "weight_grad", weightGrad, {width})))
    return failure();
  return biasGrad ? expectShape(op, "bias_grad", biasGrad, {width}) : success();
}
} // namespace

LogicalResult LayerNormGradOp::verify() {
  return verifyNormGrad(*this, getGrad(), getInput(), getWeight(),
                        getInputGrad(), getWeightGrad(), getBiasGrad());
}
LogicalResult RmsNormGradOp::verify() {
  return verifyNormGrad(*this, getGrad(), getInput(), getWeight(),
                        getInputGrad(), getWeightGrad(), Value());
}
LogicalResult AttentionGradOp::verify() {
  if (failed(verifyAttentionOperands(*this, getQuery(), getKey(), getValue(),
                                     getMask())))
    return failure();
  for (auto [what, value] : {std::pair<StringRef, Value>{"grad", getGrad()},
                             {"query_grad", getQueryGrad()}})
    if (failed(expectShape(*this, what, value, shapeOf(getQuery()),
                           "the query's shape")))
      return failure();
  for (auto [what, value] :
       {std::pair<StringRef, Value>{"key_grad", getKeyGrad()},
        {"value_grad", getValueGrad()}})
    if (failed(expectShape(*this, what, value, shapeOf(getKey()),
                           "the key's shape")))
      return failure();
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  if (failed(expectRank(*this, "logits", getLogits(), 2)) ||
      failed(expectShape(*this, "targets", getTargets(),
                         shapeOf(getLogits()).drop_back(),
                         "the logits' shape without the vocabulary "
                         "dimension")))
    return failure();
  return expectShape(*this, "logits_grad", getLogitsGrad(),
                     shapeOf(getLogits()));
}

LogicalResult ParamGradOp::verify() {
  if (getName().empty())
    return emitOpError("needs the name of the parameter it belongs to");
  return success();
}

//===----------------------------------------------------------------------===//
// Optimizer ops
//===----------------------------------------------------------------------===//

LogicalResult ClipScaleOp::verify() {
  if (!(getMaxNorm().convertToDouble() > 0.0))
    return emitOpError("max_norm must be positive but is ")
           << formatNumber(getMaxNorm().convertToDouble());
  return success();
}

LogicalResult LrScheduleOp::verify() {
  if (!(getLearningRate().convertToDouble() > 0.0))
    return emitOpError("learning_rate must be positive but is ")
           << formatNumber(getLearningRate().convertToDouble());
  if (getWarmupStepsAttr().getInt() < 0 || getDecayStepsAttr().getInt() < 0)
    return emitOpError("warmup_steps and decay_steps must not be negative");
  double minRatio = getMinRatio().convertToDouble();
  if (minRatio < 0.0 || minRatio > 1.0)
    return emitOpError("min_ratio must be in [0, 1] but is ")
           << formatNumber(minRatio);
  return success();
}

namespace {
LogicalResult verifyUpdate(Operation *op, StringRef name, Type paramType,
                           double weightDecay) {
  if (name.empty())
    return op->emitOpError("needs the name of the parameter it updates");
  auto tensor = dyn_cast<RankedTensorType>(paramType);
  if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32())
    return op->emitOpError("param_type must be a static f32 tensor but is ")
           << paramType;
  if (weightDecay < 0.0)
    return op->emitOpError("weight_decay must not be negative but is ")
           << formatNumber(weightDecay);
  return success();
}
} // namespace

LogicalResult AdamWOp::verify() {
  for (auto [what, beta] :
       {std::pair<StringRef, double>{"beta1", getBeta1().convertToDouble()},
        {"beta2", getBeta2().convertToDouble()}})
    if (beta < 0.0 || beta >= 1.0)
      return emitOpError() << what << " must be in [0, 1) but is "
                           << formatNumber(beta);
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError("epsilon must be positive but is ")
           << formatNumber(getEpsilon().convertToDouble());
  return verifyUpdate(*this, getName(), getParamType(),
                      getWeightDecay().convertToDouble());
}

LogicalResult SgdOp::verify() {
  double momentum = getMomentum().convertToDouble();
  if (momentum < 0.0 || momentum >= 1.0)
    return emitOpError("momentum must be in [0, 1) but is ")
           << formatNumber(momentum);
  return verifyUpdate(*this, getName(), getParamType(),
                      getWeightDecay().convertToDouble());
}

#define GET_OP_CLASSES
#include "dialects/giga/GigaOps.cpp.inc"
