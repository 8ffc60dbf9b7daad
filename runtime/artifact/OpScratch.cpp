//===- OpScratch.cpp - the scratch memory each op runs with ---------------===//
#include "runtime/artifact/OpScratch.h"

#include <algorithm>

namespace giga::artifact {

namespace {
int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

/// Rows of a tensor normalised or classified along its last dimension.
int64_t rows(const std::vector<int64_t> &shape) {
  return shape.empty() || shape.back() == 0 ? 0
                                            : elements(shape) / shape.back();
}

/// One block of attention scores per head, [B, H, block, Tk], for q
/// [B, H, T, D] and k [B, H, Tk, D].
int64_t blockScores(const std::vector<int64_t> &q,
                    const std::vector<int64_t> &k) {
  return q.size() == 4 && k.size() == 4
             ? q[0] * q[1] * std::min(kAttentionQueryBlock, q[2]) * k[2]
             : 0;
}
} // namespace

int64_t opScratchFloats(OpId id, const Shapes &inputs, const Shapes &,
                        const nlohmann::json &attrs) {
  // An op with too few operands is the validator's to report.
  size_t needed =
      id == OpId::LayerNormGrad || id == OpId::RmsNormGrad ||
              id == OpId::Attention || id == OpId::CrossEntropyGrad ||
              id == OpId::LinearCrossEntropy
          ? 2
      : id == OpId::LinearCrossEntropyGrad || id == OpId::AttentionGrad ? 3
                                                                        : 1;
  if (inputs.size() < needed)
    return 0;
  switch (id) {
  case OpId::LayerNorm: // mean, rstd
    return 2 * rows(inputs[0]);
  case OpId::LayerNormGrad: // mean, rstd, and the recomputed forward
    return 2 * rows(inputs[1]) + elements(inputs[1]);
  case OpId::RmsNorm: // rstd
    return rows(inputs[0]);
  case OpId::RmsNormGrad: // rstd and the recomputed forward
    return rows(inputs[1]) + elements(inputs[1]);
  case OpId::Attention: // a block of probabilities per head
    return blockScores(inputs[0], inputs[1]);
  case OpId::AttentionGrad: // a block of probabilities, and their gradient
    return 2 * blockScores(inputs[1], inputs[2]);
  case OpId::CrossEntropy: // logsumexp per row
    return rows(inputs[0]);
  case OpId::CrossEntropyGrad:
    return rows(inputs[1]);
  case OpId::LinearCrossEntropy:     // a chunk of logits, and per row
  case OpId::LinearCrossEntropyGrad: // a max, a sum and a target logit
  {
    bool grad = id == OpId::LinearCrossEntropyGrad;
    const std::vector<int64_t> &x = inputs[grad ? 1 : 0];
    const std::vector<int64_t> &weight = inputs[grad ? 2 : 1];
    auto chunk = attrs.find(attr::kLinearCrossEntropyChunk);
    if (chunk == attrs.end() || !chunk->is_number_integer() ||
        weight.size() != 2)
      return 0;
    int64_t columns = std::min(chunk->get<int64_t>(), weight[0]);
    return rows(x) * (columns + 3);
  }
  default:
    return 0;
  }
}

void reserveOpScratch(Artifact &artifact) {
  int64_t floats = 0;
  for (const Kernel &kernel : artifact.kernels)
    for (const Op &op : kernel.ops) {
      const OpSchema *schema = findOp(op.kernel);
      if (!schema)
        continue;
      auto shapes = [&](const std::vector<Operand> &operands) {
        Shapes result;
        for (const Operand &operand : operands) {
          const Buffer &b = artifact.buffers.at(operand.buffer);
          std::vector<int64_t> shape = b.type.shape;
          if (b.layers > 0 && !operand.perLayer)
            shape.insert(shape.begin(), b.layers);
          result.push_back(shape);
        }
        return result;
      };
      floats = std::max(floats, opScratchFloats(schema->id, shapes(op.inputs),
                                                shapes(op.outputs), op.attrs));
    }
  artifact.opScratchOffset = (artifact.arenaBytes + 63) / 64 * 64;
  artifact.opScratchBytes = 4 * floats;
  artifact.arenaBytes = artifact.opScratchOffset + artifact.opScratchBytes;
}

} // namespace giga::artifact
