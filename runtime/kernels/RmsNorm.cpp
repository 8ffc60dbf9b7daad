//===- RmsNorm.cpp - root-mean-square normalization over the last dim -----===//

#include "runtime/kernels/RmsNorm.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <cstring>

namespace giga::kernels {

void rmsnormForward(float *out, float *rstd, const float *inp,
                    const float *weight, int64_t rows, int64_t cols,
                    float eps) {
  detail::parallelRanges(rows, detail::minRowsPerThread(cols),
                         [&](int64_t begin, int64_t end) {
                           for (int64_t r = begin; r < end; ++r) {
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
                         });
}

void rmsnormBackward(float *dinp, float *dweight, const float *dout,
                     const float *inp, const float *weight, const float *rstd,
                     int64_t rows, int64_t cols, bool accumulate) {
  // dx row by row; dweight (a sum over rows) column by column.
  detail::parallelRanges(
      rows, detail::minRowsPerThread(cols), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const float *x = inp + r * cols;
          const float *dy = dout + r * cols;
          float s = rstd[r];
          // With xhat = x s and g = dy * weight: dx = s (g - xhat mean(g
          // xhat)).
          float sumGXhat = 0.0f;
#pragma omp simd reduction(+ : sumGXhat)
          for (int64_t c = 0; c < cols; ++c)
            sumGXhat += dy[c] * weight[c] * x[c] * s;
          float meanGXhat = sumGXhat / cols;
          detail::storeOrAdd(dinp + r * cols, cols, accumulate, [&](int64_t c) {
            return s * (dy[c] * weight[c] - x[c] * s * meanGXhat);
          });
        }
      });
  detail::parallelRanges(
      cols, detail::minColsPerThread(rows), [&](int64_t begin, int64_t end) {
        if (!accumulate)
          for (int64_t c = begin; c < end; ++c)
            dweight[c] = 0.0f;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = begin; c < end; ++c)
            dweight[c] += dout[r * cols + c] * inp[r * cols + c] * rstd[r];
      });
}

} // namespace giga::kernels
