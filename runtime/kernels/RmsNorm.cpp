//===- RmsNorm.cpp - root-mean-square normalization over the last dim -----===//

#include "runtime/kernels/RmsNorm.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <cstring>

namespace giga::kernels {

void rmsnormForward(float *out, float *rstd, const float *inp,
                    const float *weight, int64_t rows, int64_t cols,
                    float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = inp + r * cols;
    float *y = out + r * cols;
    float sumSq = 0.0f;
#pragma omp simd reduction(+ : sumSq)
    for (int64_t c = 0; c < cols; ++c)
      sumSq += x[c] * x[c];
    float s = 1.0f / std::sqrt(sumSq / cols + eps);
    for (int64_t c = 0; c < cols; ++c)
      y[c] = x[c] * s * weight[c];
    rstd[r] = s;
  }
}

void rmsnormBackward(float *dinp, float *dweight, const float *dout,
                     const float *inp, const float *weight, const float *rstd,
                     int64_t rows, int64_t cols, bool accumulate) {
  if (!accumulate)
    std::memset(dweight, 0, sizeof(float) * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = inp + r * cols;
    const float *dy = dout + r * cols;
    float s = rstd[r];
    // With xhat = x s and g = dy * weight: dx = s (g - xhat mean(g xhat)).
    float sumGXhat = 0.0f;
#pragma omp simd reduction(+ : sumGXhat)
    for (int64_t c = 0; c < cols; ++c)
      sumGXhat += dy[c] * weight[c] * x[c] * s;
    float meanGXhat = sumGXhat / cols;
    for (int64_t c = 0; c < cols; ++c)
      dweight[c] += dy[c] * x[c] * s;
    detail::storeOrAdd(dinp + r * cols, cols, accumulate, [&](int64_t c) {
      return s * (dy[c] * weight[c] - x[c] * s * meanGXhat);
    });
  }
}

} // namespace giga::kernels
