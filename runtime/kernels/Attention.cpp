//===- Attention.cpp - masked self-attention ------------------------------===//

#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace giga::kernels {

float AttentionShape::effectiveScale() const {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(static_cast<float>(headDim));
}

void fillCausalMask(float *mask, int64_t seqLen) {
  for (int64_t i = 0; i < seqLen; ++i)
    for (int64_t j = 0; j < seqLen; ++j)
      mask[i * seqLen + j] =
          j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
}

namespace {
MatmulShape batched(const AttentionShape &s, int64_t m, int64_t n, int64_t k,
                    bool transA, bool transB, float alpha, bool accumulate) {
  MatmulShape shape;
  shape.batch = s.batch * s.heads;
  shape.m = m;
  shape.n = n;
  shape.k = k;
  shape.transA = transA;
  shape.transB = transB;
  shape.alpha = alpha;
  shape.accumulate = accumulate;
  shape.precision = s.precision;
  return shape;
}

// Over the B*H heads, with t = seqLen and d = headDim.
MatmulShape scoresShape(const AttentionShape &s) { // scale q k^T
  return batched(s, s.seqLen, s.seqLen, s.headDim, false, true,
                 s.effectiveScale(), false);
}
MatmulShape weightedShape(const AttentionShape &s) { // probs v
  return batched(s, s.seqLen, s.headDim, s.seqLen, false, false, 1.0f, false);
}
MatmulShape dvShape(const AttentionShape &s, bool accumulate) { // P^T dout
  return batched(s, s.seqLen, s.headDim, s.seqLen, true, false, 1.0f,
                 accumulate);
}
MatmulShape dpShape(const AttentionShape &s) { // dout v^T
  return batched(s, s.seqLen, s.seqLen, s.headDim, false, true, 1.0f, false);
}
MatmulShape dqShape(const AttentionShape &s, bool accumulate) { // scale dS k
  return batched(s, s.seqLen, s.headDim, s.seqLen, false, false,
                 s.effectiveScale(), accumulate);
}
MatmulShape dkShape(const AttentionShape &s, bool accumulate) { // scale dS^T q
  return batched(s, s.seqLen, s.headDim, s.seqLen, true, false,
                 s.effectiveScale(), accumulate);
}
} // namespace

struct AttentionPlan::Backward {
  explicit Backward(const AttentionShape &s)
      : dv(dvShape(s, false)), dP(dpShape(s)), dq(dqShape(s, false)),
        dk(dkShape(s, false)) {}

  /// dv, dq and dk adding to their outputs.
  struct Accumulating {
    explicit Accumulating(const AttentionShape &s)
        : dv(dvShape(s, true)), dq(dqShape(s, true)), dk(dkShape(s, true)) {}
    MatmulPlan dv, dq, dk;
  };

  /// Created on first use; a mutex rather than std::call_once so that a
  /// failed creation can be retried.
  const Accumulating &accumulating(const AttentionShape &s) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!adding)
      adding = std::make_unique<Accumulating>(s);
    return *adding;
  }

  MatmulPlan dv, dP, dq, dk;
  std::mutex mutex;
  std::unique_ptr<Accumulating> adding;
};

AttentionPlan::AttentionPlan(const AttentionShape &shape, bool withBackward)
    : shape_(shape), scores_(scoresShape(shape)),
      weighted_(weightedShape(shape)) {
  if (withBackward)
    backward_ = std::make_unique<Backward>(shape);
}

AttentionPlan::~AttentionPlan() = default;
AttentionPlan::AttentionPlan(AttentionPlan &&) noexcept = default;
AttentionPlan &AttentionPlan::operator=(AttentionPlan &&) noexcept = default;

// The big products go through oneDNN with the batch of B*H heads; the full
// T x T scores are computed even though the causal mask drops half of them,
// because one batched GEMM beats T small triangular ones on this CPU.
void AttentionPlan::probabilities(float *probs, const float *q, const float *k,
                                  const float *mask) const {
  int64_t heads = shape_.batch * shape_.heads;
  int64_t t = shape_.seqLen;
  scores_.run(q, k, probs);
  detail::parallelRanges(heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) {
      float *p = probs + h * t * t;
      for (int64_t i = 0; i < t * t; ++i)
        p[i] += mask[i];
      softmaxForward(p, p, t, t);
    }
  });
}

void AttentionPlan::forward(float *out, float *probs, const float *q,
                            const float *k, const float *v,
                            const float *mask) const {
  probabilities(probs, q, k, mask);
  weighted_.run(probs, v, out);
}

void AttentionPlan::backward(float *dq, float *dk, float *dv, float *scratch,
                             const float *dout, const float *q, const float *k,
                             const float *v, const float *probs,
                             bool accumulate) const {
  if (!backward_)
    throw std::logic_error(
        "AttentionPlan::backward on a plan made without withBackward");
  int64_t heads = shape_.batch * shape_.heads;
  int64_t t = shape_.seqLen;
  const Backward &b = *backward_;
  const MatmulPlan *dvPlan = &b.dv, *dqPlan = &b.dq, *dkPlan = &b.dk;
  if (accumulate) {
    const Backward::Accumulating &adding = backward_->accumulating(shape_);
    dvPlan = &adding.dv;
    dqPlan = &adding.dq;
    dkPlan = &adding.dk;
  }

  // dv = P^T dout
  dvPlan->run(probs, dout, dv);
  // dP = dout v^T, then dS = softmax backward of dP, in place in scratch.
  // Masked entries have P = 0 and so get dS = 0.
  b.dP.run(dout, v, scratch);
  softmaxBackward(scratch, probs, scratch, heads * t, t, /*accumulate=*/false);
  // S = scale q k^T:  dq = scale dS k,  dk = scale dS^T q.
  dqPlan->run(scratch, k, dq);
  dkPlan->run(scratch, q, dk);
}

namespace {
using AttentionKey =
    std::tuple<int64_t, int64_t, int64_t, int64_t, float, MatmulPrecision>;

std::map<AttentionKey, AttentionPlan> &threadAttentionCache() {
  thread_local std::map<AttentionKey, AttentionPlan> cache;
  return cache;
}

/// The calling thread's plan for `shape`; one with the backward's plans when
/// asked (replacing a forward-only one).
const AttentionPlan &cachedPlan(const AttentionShape &shape,
                                bool withBackward) {
  auto &cache = threadAttentionCache();
  AttentionKey key{shape.batch,
                   shape.heads,
                   shape.seqLen,
                   shape.headDim,
                   shape.effectiveScale(),
                   shape.precision};
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, AttentionPlan(shape, withBackward)).first;
  else if (withBackward && !it->second.hasBackward())
    it->second = AttentionPlan(shape, true);
  return it->second;
}
} // namespace

void attentionForward(float *out, float *probs, const float *q, const float *k,
                      const float *v, const float *mask,
                      const AttentionShape &shape) {
  cachedPlan(shape, false).forward(out, probs, q, k, v, mask);
}

void attentionBackward(float *dq, float *dk, float *dv, float *scratch,
                       const float *dout, const float *q, const float *k,
                       const float *v, const float *probs,
                       const AttentionShape &shape, bool accumulate) {
  cachedPlan(shape, true)
      .backward(dq, dk, dv, scratch, dout, q, k, v, probs, accumulate);
}

size_t attentionCacheSize() { return threadAttentionCache().size(); }

} // namespace giga::kernels
