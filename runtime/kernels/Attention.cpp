//===- Attention.cpp - masked self-attention, a block of queries at a time ===//

#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Detail.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace giga::kernels {

float AttentionShape::effectiveScale() const {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(static_cast<float>(headDim));
}

int64_t AttentionShape::block() const { return std::min(queryBlock, seqLen); }

void fillCausalMask(float *mask, int64_t seqLen) {
  for (int64_t i = 0; i < seqLen; ++i)
    for (int64_t j = 0; j < seqLen; ++j)
      mask[i * seqLen + j] =
          j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
}

void fillPositionMask(float *mask, int64_t queries, int64_t keys,
                      int64_t start) {
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = 0; j < keys; ++j)
      mask[i * keys + j] =
          j <= start + i ? 0.0f : -std::numeric_limits<float>::infinity();
}

namespace {
MatmulShape product(const AttentionShape &s, int64_t m, int64_t n, int64_t k,
                    bool transA, bool transB, float alpha, bool accumulate) {
  MatmulShape shape;
  shape.m = m;
  shape.n = n;
  shape.k = k;
  shape.transA = transA;
  shape.transB = transB;
  shape.alpha = alpha;
  shape.accumulate = accumulate;
  shape.precision = s.precision;
  shape.serial = true; // the heads run in parallel, each product on one thread
  return shape;
}

/// One plan per product shape for the whole process: every layer of a model
/// multiplies blocks of the same shapes.
const MatmulPlan &sharedPlan(const MatmulShape &shape) {
  static std::mutex mutex;
  static std::map<MatmulShape, std::unique_ptr<MatmulPlan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<MatmulPlan> &plan = plans[shape];
  if (!plan)
    plan = std::make_unique<MatmulPlan>(shape);
  return *plan;
}

/// Per block of query rows, how many key columns to compute: up to the last
/// one the mask ([tq, tk]) keeps in any of its rows, rounded up to a whole
/// block (so that a few shapes serve every block; the extra columns are
/// masked).
std::vector<int64_t> keptColumns(const float *mask, int64_t tq, int64_t tk,
                                 int64_t block) {
  const float dropped = -std::numeric_limits<float>::infinity();
  std::vector<int64_t> columns;
  for (int64_t first = 0; first < tq; first += block) {
    int64_t end = 0;
    for (int64_t r = first; r < std::min(first + block, tq); ++r) {
      const float *row = mask + r * tk;
      for (int64_t c = tk; c > end; --c)
        if (row[c - 1] != dropped) {
          end = c;
          break;
        }
    }
    columns.push_back(std::min(tk, (end + block - 1) / block * block));
  }
  return columns;
}

/// Element `offset` of an operand in the plan's precision (MatmulOperand).
const void *element(const void *operand, int64_t offset,
                    MatmulPrecision precision) {
  size_t bytes = precision == MatmulPrecision::Bf16 ? 2 : 4;
  return static_cast<const char *>(operand) + offset * bytes;
}

/// scores = softmax(scores + mask) for a block's rows x columns, the mask
/// `tk` wide.
void maskedSoftmax(float *scores, const float *mask, int64_t tk, int64_t first,
                   int64_t rows, int64_t columns) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = scores + r * columns;
    const float *maskRow = mask + (first + r) * tk;
#pragma omp simd
    for (int64_t c = 0; c < columns; ++c)
      row[c] += maskRow[c];
  }
  softmaxForward(scores, scores, rows, columns);
}
} // namespace

/// The products of a block of `rows` queries against its first `columns`
/// keys, with d = headDim. Pointers into sharedPlan's plans.
struct AttentionPlan::Products {
  struct Block {
    const MatmulPlan *scores;   // S = scale q_b k^T           [rows, columns]
    const MatmulPlan *weighted; // out_b = P v                 [rows, d]
    const MatmulPlan *dv;       // dv += P^T dout_b            [columns, d]
    const MatmulPlan *dp;       // dP = dout_b v^T             [rows, columns]
    const MatmulPlan *dq;       // dq_b = scale dS k           [rows, d]
    const MatmulPlan *dqAdding; // dq_b += scale dS k
    const MatmulPlan *dk;       // dk += scale dS^T q_b        [columns, d]
  };

  const Block &at(const AttentionShape &s, bool backward, int64_t rows,
                  int64_t columns) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = blocks.find({rows, columns});
    if (it != blocks.end())
      return it->second;
    int64_t d = s.headDim;
    float scale = s.effectiveScale();
    Block b{};
    b.scores = &sharedPlan(product(s, rows, columns, d, false, true, scale,
                                   /*accumulate=*/false));
    b.weighted =
        &sharedPlan(product(s, rows, d, columns, false, false, 1.0f, false));
    if (backward) {
      b.dv = &sharedPlan(product(s, columns, d, rows, true, false, 1.0f, true));
      b.dp =
          &sharedPlan(product(s, rows, columns, d, false, true, 1.0f, false));
      b.dq =
          &sharedPlan(product(s, rows, d, columns, false, false, scale, false));
      b.dqAdding =
          &sharedPlan(product(s, rows, d, columns, false, false, scale, true));
      b.dk =
          &sharedPlan(product(s, columns, d, rows, true, false, scale, true));
    }
    return blocks.emplace(std::make_pair(rows, columns), b).first->second;
  }

  /// Each block's products for `columns` (keptColumns), made on first use.
  std::vector<const Block *> forBlocks(const AttentionShape &s, bool backward,
                                       const std::vector<int64_t> &columns) {
    std::vector<const Block *> result;
    int64_t block = s.block();
    for (size_t b = 0; b < columns.size(); ++b) {
      int64_t rows = std::min(block, s.seqLen - int64_t(b) * block);
      result.push_back(columns[b] ? &at(s, backward, rows, columns[b])
                                  : nullptr);
    }
    return result;
  }

  std::mutex mutex;
  std::map<std::pair<int64_t, int64_t>, Block> blocks;
};

AttentionPlan::AttentionPlan(const AttentionShape &shape, bool withBackward)
    : shape_(shape), withBackward_(withBackward),
      products_(std::make_unique<Products>()) {
  const AttentionShape &s = shape;
  if (s.batch < 1 || s.heads < 1 || s.seqLen < 1 || s.headDim < 1 ||
      s.queryBlock < 1 || s.keys < 0)
    throw std::invalid_argument(
        "attention: batch " + std::to_string(s.batch) + ", heads " +
        std::to_string(s.heads) + ", seqLen " + std::to_string(s.seqLen) +
        ", headDim " + std::to_string(s.headDim) + " and queryBlock " +
        std::to_string(s.queryBlock) + " must be positive, keys " +
        std::to_string(s.keys) + " >= 0");
  // The causal mask's blocks now (every key for queries over more keys), so
  // that a bad shape fails here and the first step does not pay for
  // creating them.
  std::vector<int64_t> expected;
  for (int64_t first = 0; first < s.seqLen; first += s.block())
    expected.push_back(s.keyLen() == s.seqLen
                           ? std::min(s.seqLen, first + s.block())
                           : s.keyLen());
  products_->forBlocks(s, withBackward, expected);
}

AttentionPlan::~AttentionPlan() = default;
AttentionPlan::AttentionPlan(AttentionPlan &&) noexcept = default;
AttentionPlan &AttentionPlan::operator=(AttentionPlan &&) noexcept = default;

void AttentionPlan::forward(float *out, float *scratch, const float *q,
                            const float *k, const float *v,
                            const float *mask) const {
  const AttentionShape &s = shape_;
  int64_t t = s.seqLen, tk = s.keyLen(), d = s.headDim, block = s.block();
  std::vector<int64_t> columns = keptColumns(mask, t, tk, block);
  std::vector<const Products::Block *> products =
      products_->forBlocks(s, withBackward_, columns);
  // Only the keys some block keeps are read (a decode step's cache is
  // mostly empty), so only they are converted.
  const int64_t used = *std::max_element(columns.begin(), columns.end());
  detail::parallelRanges(s.batch * s.heads, 1, [&](int64_t begin, int64_t end) {
    MatmulOperand qOperand(s.precision), kOperand(s.precision),
        vOperand(s.precision), probsOperand(s.precision);
    for (int64_t h = begin; h < end; ++h) {
      const void *qh = qOperand.of(q + h * t * d, t * d);
      const void *kh = kOperand.of(k + h * tk * d, used * d);
      const void *vh = vOperand.of(v + h * tk * d, used * d);
      float *scores = scratch + h * block * tk;
      for (size_t b = 0; b < columns.size(); ++b) {
        int64_t first = int64_t(b) * block, rows = std::min(block, t - first);
        float *outBlock = out + (h * t + first) * d;
        if (!products[b]) { // every key masked: softmax gives 0, so does out
          std::memset(outBlock, 0, sizeof(float) * rows * d);
          continue;
        }
        products[b]->scores->runConverted(element(qh, first * d, s.precision),
                                          kh, scores);
        maskedSoftmax(scores, mask, tk, first, rows, columns[b]);
        products[b]->weighted->runConverted(
            probsOperand.of(scores, rows * columns[b]), vh, outBlock);
      }
    }
  });
}

void AttentionPlan::backward(float *dq, float *dk, float *dv, float *scratch,
                             const float *dout, const float *q, const float *k,
                             const float *v, const float *mask,
                             bool accumulate) const {
  if (!withBackward_)
    throw std::logic_error(
        "AttentionPlan::backward on a plan made without withBackward");
  const AttentionShape &s = shape_;
  int64_t t = s.seqLen, tk = s.keyLen(), d = s.headDim, block = s.block();
  std::vector<int64_t> columns = keptColumns(mask, t, tk, block);
  std::vector<const Products::Block *> products =
      products_->forBlocks(s, true, columns);
  detail::parallelRanges(s.batch * s.heads, 1, [&](int64_t begin, int64_t end) {
    MatmulOperand qOperand(s.precision), kOperand(s.precision),
        vOperand(s.precision), doutOperand(s.precision),
        probsOperand(s.precision), dScoresOperand(s.precision);
    for (int64_t h = begin; h < end; ++h) {
      int64_t head = h * t * d, keyHead = h * tk * d;
      // dk and dv sum over the blocks of queries; rows no query attends to
      // stay 0.
      if (!accumulate) {
        std::memset(dk + keyHead, 0, sizeof(float) * tk * d);
        std::memset(dv + keyHead, 0, sizeof(float) * tk * d);
      }
      const void *qh = qOperand.of(q + head, t * d);
      const void *kh = kOperand.of(k + keyHead, tk * d);
      const void *vh = vOperand.of(v + keyHead, tk * d);
      const void *douth = doutOperand.of(dout + head, t * d);
      float *probs = scratch + 2 * h * block * tk;
      float *dScores = probs + block * tk;
      for (size_t b = 0; b < columns.size(); ++b) {
        int64_t first = int64_t(b) * block, rows = std::min(block, t - first);
        int64_t n = columns[b];
        float *dqBlock = dq + head + first * d;
        if (!products[b]) {
          if (!accumulate)
            std::memset(dqBlock, 0, sizeof(float) * rows * d);
          continue;
        }
        const Products::Block &p = *products[b];
        const void *qBlock = element(qh, first * d, s.precision);
        const void *doutBlock = element(douth, first * d, s.precision);
        p.scores->runConverted(qBlock, kh, probs);
        maskedSoftmax(probs, mask, tk, first, rows, n);
        const void *probsConverted = probsOperand.of(probs, rows * n);
        p.dv->runConverted(probsConverted, doutBlock, dv + keyHead);
        // dS = P (dP - rowsum(dP P)); masked entries have P = 0, so dS = 0.
        p.dp->runConverted(doutBlock, vh, dScores);
        softmaxBackward(dScores, probs, dScores, rows, n, /*accumulate=*/false);
        const void *dScoresConverted = dScoresOperand.of(dScores, rows * n);
        (accumulate ? p.dqAdding : p.dq)
            ->runConverted(dScoresConverted, kh, dqBlock);
        p.dk->runConverted(dScoresConverted, qBlock, dk + keyHead);
      }
    }
  });
}

namespace {
using AttentionKey = std::tuple<int64_t, int64_t, int64_t, int64_t, float,
                                MatmulPrecision, int64_t, int64_t>;

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
                   shape.precision,
                   shape.block(),
                   shape.keyLen()};
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, AttentionPlan(shape, withBackward)).first;
  else if (withBackward && !it->second.hasBackward())
    it->second = AttentionPlan(shape, true);
  return it->second;
}
} // namespace

void attentionForward(float *out, float *scratch, const float *q,
                      const float *k, const float *v, const float *mask,
                      const AttentionShape &shape) {
  cachedPlan(shape, false).forward(out, scratch, q, k, v, mask);
}

void attentionBackward(float *dq, float *dk, float *dv, float *scratch,
                       const float *dout, const float *q, const float *k,
                       const float *v, const float *mask,
                       const AttentionShape &shape, bool accumulate) {
  cachedPlan(shape, true)
      .backward(dq, dk, dv, scratch, dout, q, k, v, mask, accumulate);
}

size_t attentionCacheSize() { return threadAttentionCache().size(); }

} // namespace giga::kernels
