//===- LinearCrossEntropy.cpp - a linear layer fused with the loss -------===//

#include "runtime/kernels/LinearCrossEntropy.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace giga::kernels {

namespace {
MatmulShape product(int64_t m, int64_t n, int64_t k, bool transA, bool transB,
                    bool accumulate, MatmulPrecision precision) {
  MatmulShape s;
  s.precision = precision;
  s.m = m;
  s.n = n;
  s.k = k;
  s.transA = transA;
  s.transB = transB;
  s.accumulate = accumulate;
  return s;
}
} // namespace

LinearCrossEntropyPlan::LinearCrossEntropyPlan(
    const LinearCrossEntropyShape &shape, bool withBackward)
    : shape_(shape) {
  const LinearCrossEntropyShape &s = shape;
  if (s.rows < 1 || s.channels < 1 || s.classes < 1 || s.chunk < 1 ||
      s.chunk > s.classes)
    throw std::invalid_argument(
        "linear_cross_entropy: rows " + std::to_string(s.rows) + ", channels " +
        std::to_string(s.channels) + ", classes " + std::to_string(s.classes) +
        " must be positive and the chunk " + std::to_string(s.chunk) +
        " within 1..classes");
  int64_t last = s.classes - (s.chunks() - 1) * s.chunk;
  for (int64_t width : {s.chunk, last}) {
    if (!widths_.empty() && width == widths_.front().width)
      break;
    Chunk chunk{width,
                MatmulPlan(product(s.rows, width, s.channels, false, true,
                                   false, s.precision)),
                {},
                {}};
    if (withBackward)
      for (bool add : {false, true}) {
        chunk.dx.emplace_back(
            product(s.rows, s.channels, width, false, false, add, s.precision));
        chunk.dw.emplace_back(
            product(width, s.channels, s.rows, true, false, add, s.precision));
      }
    widths_.push_back(std::move(chunk));
  }
}

const LinearCrossEntropyPlan::Chunk &
LinearCrossEntropyPlan::chunkAt(int64_t index) const {
  return index + 1 < shape_.chunks() ? widths_.front() : widths_.back();
}

float LinearCrossEntropyPlan::forward(float *scratch, const float *x,
                                      const float *w,
                                      const int32_t *targets) const {
  MatmulOperand xOperand(shape_.precision);
  return forward(scratch, xOperand.of(x, shape_.rows * shape_.channels), w,
                 targets);
}

// Leaves each row's logsumexp where its running max was.
float LinearCrossEntropyPlan::forward(float *scratch, const void *x,
                                      const float *w,
                                      const int32_t *targets) const {
  const LinearCrossEntropyShape &s = shape_;
  MatmulOperand wChunk(s.precision);
  float *z = scratch;
  float *runningMax = scratch + s.rows * s.chunk;
  float *runningSum = runningMax + s.rows;
  float *targetLogit = runningSum + s.rows;
  for (int64_t i = 0; i < s.rows; ++i) {
    runningMax[i] = -std::numeric_limits<float>::infinity();
    runningSum[i] = 0.0f;
  }
  for (int64_t index = 0; index < s.chunks(); ++index) {
    const Chunk &chunk = chunkAt(index);
    int64_t first = index * s.chunk, width = chunk.width;
    chunk.logits.runConverted(
        x, wChunk.of(w + first * s.channels, width * s.channels), z);
    detail::parallelRanges(s.rows, detail::minRowsPerThread(width),
                           [&](int64_t begin, int64_t end) {
                             for (int64_t i = begin; i < end; ++i) {
                               const float *row = z + i * width;
                               float chunkMax =
                                   -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : chunkMax)
                               for (int64_t j = 0; j < width; ++j)
                                 chunkMax =
                                     row[j] > chunkMax ? row[j] : chunkMax;
                               float m = runningMax[i];
                               if (chunkMax > m) {
                                 // exp(-inf) is 0: the first chunk rescales
                                 // nothing.
                                 runningSum[i] *= detail::fastExp(m - chunkMax);
                                 m = runningMax[i] = chunkMax;
                               }
                               float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                               for (int64_t j = 0; j < width; ++j)
                                 sum += detail::fastExp(row[j] - m);
                               runningSum[i] += sum;
                               int64_t target = targets[i] - first;
                               if (target >= 0 && target < width)
                                 targetLogit[i] = row[target];
                             }
                           });
  }
  double total = 0.0;
  for (int64_t i = 0; i < s.rows; ++i) {
    runningMax[i] += std::log(runningSum[i]); // now the logsumexp
    total += double(runningMax[i]) - targetLogit[i];
  }
  return float(total / double(s.rows));
}

float LinearCrossEntropyPlan::forwardBackward(
    float *dx, float *dw, float *scratch, const float *x, const float *w,
    const int32_t *targets, float dloss, bool accumulate) const {
  const LinearCrossEntropyShape &s = shape_;
  if (widths_.front().dx.empty())
    throw std::logic_error("LinearCrossEntropyPlan::forwardBackward on a plan "
                           "made without withBackward");
  MatmulOperand xOperand(s.precision), wOperand(s.precision),
      dzOperand(s.precision);
  const void *xConverted = xOperand.of(x, s.rows * s.channels);
  float loss = forward(scratch, xConverted, w, targets);
  const float *logsumexp = scratch + s.rows * s.chunk;
  float rowScale = dloss / float(s.rows);
  float *dz = scratch;
  for (int64_t index = 0; index < s.chunks(); ++index) {
    const Chunk &chunk = chunkAt(index);
    int64_t first = index * s.chunk, width = chunk.width;
    const void *wChunk =
        wOperand.of(w + first * s.channels, width * s.channels);
    chunk.logits.runConverted(xConverted, wChunk, dz);
    // dz = dloss / n (softmax(z) - onehot(target)).
    detail::parallelRanges(s.rows, detail::minRowsPerThread(width),
                           [&](int64_t begin, int64_t end) {
                             for (int64_t i = begin; i < end; ++i) {
                               float *row = dz + i * width;
                               float lse = logsumexp[i];
                               for (int64_t j = 0; j < width; ++j)
                                 row[j] =
                                     rowScale * detail::fastExp(row[j] - lse);
                               int64_t target = targets[i] - first;
                               if (target >= 0 && target < width)
                                 row[target] -= rowScale;
                             }
                           });
    bool addToDx = accumulate || index > 0;
    const void *dzConverted = dzOperand.of(dz, s.rows * width);
    chunk.dx[addToDx].runConverted(dzConverted, wChunk, dx);
    chunk.dw[accumulate].runConverted(dzConverted, xConverted,
                                      dw + first * s.channels);
  }
  return loss;
}

} // namespace giga::kernels
