//===- Attention.cpp - attention and attention_grad -----------------------===//
//
// softmax(scale q kᵀ + mask) v per batch and head, through a kernels::
// AttentionPlan. The artifact keeps no probabilities: forward computes them a
// block of queries at a time into scratch, and the gradient recomputes them
// there (artifact::kAttentionQueryBlock rows a head).
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Attention.h"
#include "runtime/artifact/OpScratch.h"
#include "runtime/exec/ops/Op.h"

#include <cmath>

namespace giga::exec::ops {
namespace {

/// Queries below which attention over a longer KV cache multiplies in fp32.
constexpr int64_t kMinBf16AttentionQueries = 16;

class Attention : public Op {
public:
  explicit Attention(std::unique_ptr<kernels::AttentionPlan> plan)
      : plan(std::move(plan)) {}
  void run(const OpArgs &a) const override {
    if (plan)
      plan->forward(a.f32Out(0), a.scratch, a.f32In(0), a.f32In(1), a.f32In(2),
                    a.f32In(3));
  }

private:
  std::unique_ptr<kernels::AttentionPlan> plan; // null: empty q
};

/// Inputs grad, q, k, v, mask; outputs dq, dk, dv.
class AttentionGrad : public Op {
public:
  explicit AttentionGrad(std::unique_ptr<kernels::AttentionPlan> plan)
      : plan(std::move(plan)) {}
  void run(const OpArgs &a) const override {
    if (plan)
      plan->backward(a.f32Out(0), a.f32Out(1), a.f32Out(2), a.scratch,
                     a.f32In(0), a.f32In(1), a.f32In(2), a.f32In(3), a.f32In(4),
                     /*accumulate=*/false);
  }

private:
  std::unique_ptr<kernels::AttentionPlan> plan;
};

/// Checks q, k, v, mask (after grad for the gradient) and the outputs, and
/// plans the matmuls; null when there is nothing to compute.
std::unique_ptr<kernels::AttentionPlan> planAttention(OpContext &c, bool grad,
                                                      const char *scaleName) {
  c.operandCounts(grad ? 5 : 4, grad ? 3 : 1);
  size_t first = grad ? 1 : 0;
  const char *names[] = {"q", "k", "v"};
  const OperandView &q = c.in(first), &k = c.in(first + 1);
  for (size_t i = 0; i < 3; ++i)
    c.dtype(c.in(first + i), names[i], DType::F32);
  if (q.shape.size() != 4)
    c.fail("q must be [B, H, T, D], got " + c.describe(q));
  if (k.shape.size() != 4)
    c.fail("k must be [B, H, Tk, D], got " + c.describe(k));
  const std::vector<int64_t> keyShape{q.shape[0], q.shape[1], k.shape[2],
                                      q.shape[3]};
  c.shape(k, "k", keyShape);
  c.shape(c.in(first + 2), "v", keyShape);
  const OperandView &mask = c.in(first + 3);
  c.dtype(mask, "mask", DType::F32);
  c.shape(mask, "mask", {q.shape[2], k.shape[2]});
  if (grad) {
    c.dtype(c.in(0), "grad", DType::F32);
    c.shape(c.in(0), "grad", q.shape);
    const char *outs[] = {"dq", "dk", "dv"};
    for (size_t i = 0; i < 3; ++i) {
      c.dtype(c.out(i), outs[i], DType::F32);
      c.shape(c.out(i), outs[i], i == 0 ? q.shape : keyShape);
    }
  } else {
    c.dtype(c.out(0), "result", DType::F32);
    c.shape(c.out(0), "result", q.shape);
  }
  double scale = c.number(scaleName);
  // The kernel library reads a scale of 0 as 1/sqrt(D); the artifact means
  // what it says, so 0 (uniform attention, never what a model wants) is
  // refused rather than silently changed.
  if (!std::isfinite(scale) || scale == 0.0)
    c.fail(std::string("attribute '") + scaleName +
           "' must be finite and non-zero");
  kernels::AttentionShape shape;
  shape.batch = q.shape[0];
  shape.heads = q.shape[1];
  shape.seqLen = q.shape[2];
  shape.headDim = q.shape[3];
  shape.keys = k.shape[2];
  shape.scale = static_cast<float>(scale);
  // bf16 pays for converting k and v by multiplying each of their rows by
  // many queries. A decode step over a KV cache has one: there converting
  // the cache is most of the work, so it multiplies in fp32 (more exact, and
  // faster). Self-attention (keys = queries, as in training) keeps the
  // executor's precision whatever its length.
  const bool fewQueriesOverACache =
      shape.seqLen < kMinBf16AttentionQueries && shape.keys > shape.seqLen;
  shape.precision = fewQueriesOverACache ? kernels::MatmulPrecision::F32
                                         : c.matmulPrecision();
  shape.queryBlock = artifact::kAttentionQueryBlock;
  if (q.elements == 0 || k.elements == 0)
    return nullptr;
  try {
    return std::make_unique<kernels::AttentionPlan>(shape, grad);
  } catch (const std::exception &e) {
    c.fail(std::string("cannot create the attention matmul primitives: ") +
           e.what());
  }
}

} // namespace

std::unique_ptr<Op> prepareAttention(OpContext &c) {
  return std::make_unique<Attention>(
      planAttention(c, false, artifact::attr::kAttentionScale));
}

std::unique_ptr<Op> prepareAttentionGrad(OpContext &c) {
  return std::make_unique<AttentionGrad>(
      planAttention(c, true, artifact::attr::kAttentionGradScale));
}

} // namespace giga::exec::ops
