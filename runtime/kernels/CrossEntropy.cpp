//===- CrossEntropy.cpp - mean softmax cross-entropy ----------------------===//

#include "runtime/kernels/CrossEntropy.h"
#include "runtime/kernels/Detail.h"
#include "runtime/kernels/Matmul.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace giga::kernels {

namespace {
void checkTarget(int32_t target, int64_t row, int64_t vocab) {
  if (target < 0 || target >= vocab)
    throw std::out_of_range("cross_entropy: target " + std::to_string(target) +
                            " at row " + std::to_string(row) +
                            " is outside the vocabulary [0, " +
                            std::to_string(vocab) + ")");
}
} // namespace

// Rows are independent, so they are split over the matmul threads; the
// loss is summed afterwards in row order, so it does not depend on the
// thread count. Exceptions cannot leave an OpenMP region: the targets are
// checked before it.

float crossEntropyForward(float *logsumexp, const float *logits,
                          const int32_t *targets, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    checkTarget(targets[i], i, vocab);
#pragma omp parallel for schedule(static) num_threads(matmulThreads())
  for (int64_t i = 0; i < n; ++i) {
    const float *x = logits + i * vocab;
    float maxValue = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : maxValue)
    for (int64_t j = 0; j < vocab; ++j)
      maxValue = x[j] > maxValue ? x[j] : maxValue;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < vocab; ++j)
      sum += detail::fastExp(x[j] - maxValue);
    logsumexp[i] = maxValue + std::log(sum);
  }
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i)
    total += static_cast<double>(logsumexp[i]) - logits[i * vocab + targets[i]];
  return n > 0 ? static_cast<float>(total / n) : 0.0f;
}

void crossEntropyBackward(float *dlogits, const float *logits,
                          const float *logsumexp, const int32_t *targets,
                          float dloss, int64_t n, int64_t vocab,
                          bool accumulate) {
  for (int64_t i = 0; i < n; ++i)
    checkTarget(targets[i], i, vocab);
  float rowScale = n > 0 ? dloss / n : 0.0f;
#pragma omp parallel for schedule(static) num_threads(matmulThreads())
  for (int64_t i = 0; i < n; ++i) {
    const float *x = logits + i * vocab;
    float *dx = dlogits + i * vocab;
    float lse = logsumexp[i];
    detail::storeOrAdd(dx, vocab, accumulate, [&](int64_t j) {
      return rowScale * detail::fastExp(x[j] - lse);
    });
    dx[targets[i]] -= rowScale;
  }
}

} // namespace giga::kernels
