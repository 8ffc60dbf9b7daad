//===- Softmax.cpp - softmax along the last axis --------------------------===//

#include "runtime/kernels/Softmax.h"
#include "runtime/kernels/Detail.h"

#include <limits>

namespace giga::kernels {

namespace {
void softmaxRow(float *y, const float *x, int64_t cols) {
  float maxValue = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : maxValue)
  for (int64_t c = 0; c < cols; ++c)
    maxValue = x[c] > maxValue ? x[c] : maxValue;
  if (maxValue == -std::numeric_limits<float>::infinity()) {
    // Fully masked: exp(-inf - -inf) would be NaN.
    for (int64_t c = 0; c < cols; ++c)
      y[c] = 0.0f;
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < cols; ++c) {
    y[c] = detail::fastExp(x[c] - maxValue);
    sum += y[c];
  }
  float inv = 1.0f / sum;
  for (int64_t c = 0; c < cols; ++c)
    y[c] *= inv;
}

// dx = y (dy - <dy, y>); dx may alias dy.
void softmaxBackwardRow(float *dx, const float *y, const float *dy,
                        int64_t cols, bool accumulate) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t c = 0; c < cols; ++c)
    dot += dy[c] * y[c];
  detail::storeOrAdd(dx, cols, accumulate,
                     [&](int64_t c) { return y[c] * (dy[c] - dot); });
}
} // namespace

void softmaxForward(float *out, const float *inp, int64_t rows, int64_t cols) {
  detail::parallelRanges(rows, detail::minRowsPerThread(cols),
                         [&](int64_t begin, int64_t end) {
                           for (int64_t r = begin; r < end; ++r)
                             softmaxRow(out + r * cols, inp + r * cols, cols);
                         });
}

void softmaxBackward(float *dinp, const float *out, const float *dout,
                     int64_t rows, int64_t cols, bool accumulate) {
  detail::parallelRanges(
      rows, detail::minRowsPerThread(cols), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          softmaxBackwardRow(dinp + r * cols, out + r * cols, dout + r * cols,
                             cols, accumulate);
      });
}

} // namespace giga::kernels
