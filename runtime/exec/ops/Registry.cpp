//===- Registry.cpp - which implementation runs each op ------------------===//
//
// One entry per op and element type (its first output's dtype): a bf16 or a
// fused variant of an op is a new entry and a new prepare function, not a
// branch in an existing one. The op set itself is runtime/artifact/Ops.def;
// a test checks every op there has an entry here.
//
//===----------------------------------------------------------------------===//
#include "runtime/artifact/OpScratch.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {

using PrepareFn = std::unique_ptr<Op> (*)(OpContext &);

// Defined in this folder's files, one op (and its gradient) per file.
std::unique_ptr<Op> prepareEmbedding(OpContext &);
std::unique_ptr<Op> prepareEmbeddingGrad(OpContext &);
std::unique_ptr<Op> prepareIota(OpContext &);
std::unique_ptr<Op> prepareCausalMask(OpContext &);
std::unique_ptr<Op> prepareFill(OpContext &);
std::unique_ptr<Op> prepareMatmul(OpContext &);
std::unique_ptr<Op> prepareAdd(OpContext &);
std::unique_ptr<Op> prepareBiasAdd(OpContext &);
std::unique_ptr<Op> prepareReduceSum(OpContext &);
std::unique_ptr<Op> prepareLayerNorm(OpContext &);
std::unique_ptr<Op> prepareLayerNormGrad(OpContext &);
std::unique_ptr<Op> prepareRmsNorm(OpContext &);
std::unique_ptr<Op> prepareRmsNormGrad(OpContext &);
std::unique_ptr<Op> prepareGelu(OpContext &);
std::unique_ptr<Op> prepareGeluGrad(OpContext &);
std::unique_ptr<Op> prepareSoftmax(OpContext &);
std::unique_ptr<Op> prepareSoftmaxGrad(OpContext &);
std::unique_ptr<Op> prepareAttention(OpContext &);
std::unique_ptr<Op> prepareAttentionGrad(OpContext &);
std::unique_ptr<Op> preparePositions(OpContext &);
std::unique_ptr<Op> preparePositionMask(OpContext &);
std::unique_ptr<Op> prepareKvCache(OpContext &);
std::unique_ptr<Op> prepareSlice(OpContext &);
std::unique_ptr<Op> prepareCrossEntropy(OpContext &);
std::unique_ptr<Op> prepareCrossEntropyGrad(OpContext &);
std::unique_ptr<Op> prepareLinearCrossEntropy(OpContext &);
std::unique_ptr<Op> prepareLinearCrossEntropyGrad(OpContext &);
std::unique_ptr<Op> prepareTranspose(OpContext &);
std::unique_ptr<Op> prepareCopy(OpContext &);
std::unique_ptr<Op> prepareSplit(OpContext &);
std::unique_ptr<Op> prepareConcat(OpContext &);

namespace {
using artifact::OpId;

struct Entry {
  OpId op;
  DType type;
  PrepareFn prepare;
};

// Layout ops (transpose, copy, slice, split, concat) move bytes of any dtype;
// they are registered for each.
const Entry kEntries[] = {
    {OpId::Embedding, DType::F32, prepareEmbedding},
    {OpId::EmbeddingGrad, DType::F32, prepareEmbeddingGrad},
    {OpId::Iota, DType::I32, prepareIota},
    {OpId::CausalMask, DType::F32, prepareCausalMask},
    {OpId::Fill, DType::F32, prepareFill},
    {OpId::Matmul, DType::F32, prepareMatmul},
    {OpId::Add, DType::F32, prepareAdd},
    {OpId::BiasAdd, DType::F32, prepareBiasAdd},
    {OpId::ReduceSum, DType::F32, prepareReduceSum},
    {OpId::LayerNorm, DType::F32, prepareLayerNorm},
    {OpId::LayerNormGrad, DType::F32, prepareLayerNormGrad},
    {OpId::RmsNorm, DType::F32, prepareRmsNorm},
    {OpId::RmsNormGrad, DType::F32, prepareRmsNormGrad},
    {OpId::Gelu, DType::F32, prepareGelu},
    {OpId::GeluGrad, DType::F32, prepareGeluGrad},
    {OpId::Softmax, DType::F32, prepareSoftmax},
    {OpId::SoftmaxGrad, DType::F32, prepareSoftmaxGrad},
    {OpId::Attention, DType::F32, prepareAttention},
    {OpId::AttentionGrad, DType::F32, prepareAttentionGrad},
    {OpId::Positions, DType::I32, preparePositions},
    {OpId::PositionMask, DType::F32, preparePositionMask},
    {OpId::KvCache, DType::F32, prepareKvCache},
    {OpId::Slice, DType::F32, prepareSlice},
    {OpId::Slice, DType::I32, prepareSlice},
    {OpId::Slice, DType::I64, prepareSlice},
    {OpId::CrossEntropy, DType::F32, prepareCrossEntropy},
    {OpId::CrossEntropyGrad, DType::F32, prepareCrossEntropyGrad},
    {OpId::LinearCrossEntropy, DType::F32, prepareLinearCrossEntropy},
    {OpId::LinearCrossEntropyGrad, DType::F32, prepareLinearCrossEntropyGrad},
    {OpId::Transpose, DType::F32, prepareTranspose},
    {OpId::Transpose, DType::I32, prepareTranspose},
    {OpId::Transpose, DType::I64, prepareTranspose},
    {OpId::Copy, DType::F32, prepareCopy},
    {OpId::Copy, DType::I32, prepareCopy},
    {OpId::Copy, DType::I64, prepareCopy},
    {OpId::Split, DType::F32, prepareSplit},
    {OpId::Split, DType::I32, prepareSplit},
    {OpId::Split, DType::I64, prepareSplit},
    {OpId::Concat, DType::F32, prepareConcat},
    {OpId::Concat, DType::I32, prepareConcat},
    {OpId::Concat, DType::I64, prepareConcat},
};
} // namespace

std::unique_ptr<Op> prepare(OpContext &context) {
  const artifact::OpSchema &schema = context.schema();
  // Without outputs there is no element type; any entry then reports the
  // operand counts it expects.
  bool typed = !context.outputs().empty();
  DType type = typed ? context.out(0).dtype : DType::F32;
  std::string implemented;
  for (const Entry &entry : kEntries) {
    if (entry.op != schema.id)
      continue;
    if (entry.type == type || !typed) {
      std::unique_ptr<Op> op = entry.prepare(context);
      op->where = context.where();
      artifact::Shapes inputs, outputs;
      for (const OperandView &view : context.inputs())
        inputs.push_back(view.shape);
      for (const OperandView &view : context.outputs())
        outputs.push_back(view.shape);
      op->scratchFloats = artifact::opScratchFloats(schema.id, inputs, outputs,
                                                    context.attributes());
      if (op->inPlace.empty())
        op->inPlace.assign(context.outputs().size(), {});
      return op;
    }
    implemented += std::string(implemented.empty() ? "" : ", ") +
                   artifact::toString(entry.type);
  }
  context.fail(std::string("has no implementation for element type ") +
               artifact::toString(type) + " (its result " +
               context.describe(context.out(0)) +
               "); implemented: " + implemented);
}

std::vector<std::pair<artifact::OpId, DType>> registeredOps() {
  std::vector<std::pair<artifact::OpId, DType>> all;
  for (const Entry &entry : kEntries)
    all.emplace_back(entry.op, entry.type);
  return all;
}

} // namespace giga::exec::ops
