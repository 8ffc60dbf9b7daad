//===- LayerNorm.cpp - layer normalization over the last dim --------------===//

#include "runtime/kernels/LayerNorm.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <cstring>

namespace giga::kernels {

void layernormForward(float *out, float *mean, float *rstd, const float *inp,
                      const float *gamma, const float *beta, int64_t rows,
                      int64_t cols, float eps) {
  detail::parallelRanges(rows, detail::minRowsPerThread(cols),
                         [&](int64_t begin, int64_t end) {
                           for (int64_t r = begin; r < end; ++r) {
                             const float *x = inp + r * cols;
                             float *y = out + r * cols;
                             float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                             for (int64_t c = 0; c < cols; ++c)
                               sum += x[c];
                             float mu = sum / cols;
                             // Two passes: E[(x - mu)^2] loses far less than
                             // E[x^2] - mu^2 when the mean is large compared
                             // with the spread.
                             float sumSq = 0.0f;
#pragma omp simd reduction(+ : sumSq)
                             for (int64_t c = 0; c < cols; ++c)
                               sumSq += (x[c] - mu) * (x[c] - mu);
                             float s = 1.0f / std::sqrt(sumSq / cols + eps);
                             for (int64_t c = 0; c < cols; ++c)
                               y[c] = (x[c] - mu) * s * gamma[c] + beta[c];
                             mean[r] = mu;
                             rstd[r] = s;
                           }
                         });
}

void layernormBackward(float *dinp, float *dgamma, float *dbeta,
                       const float *dout, const float *inp, const float *gamma,
                       const float *mean, const float *rstd, int64_t rows,
                       int64_t cols, bool accumulate) {
  // dx row by row; dgamma and dbeta (sums over rows) column by column.
  detail::parallelRanges(
      rows, detail::minRowsPerThread(cols), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const float *x = inp + r * cols;
          const float *dy = dout + r * cols;
          float mu = mean[r];
          float s = rstd[r];
          // With xhat = (x - mu) s and g = dy * gamma:
          //   dx = s (g - mean(g) - xhat mean(g xhat)).
          float sumG = 0.0f;
          float sumGXhat = 0.0f;
#pragma omp simd reduction(+ : sumG, sumGXhat)
          for (int64_t c = 0; c < cols; ++c) {
            float g = dy[c] * gamma[c];
            sumG += g;
            sumGXhat += g * (x[c] - mu) * s;
          }
          float meanG = sumG / cols;
          float meanGXhat = sumGXhat / cols;
          detail::storeOrAdd(dinp + r * cols, cols, accumulate, [&](int64_t c) {
            float xhat = (x[c] - mu) * s;
            return s * (dy[c] * gamma[c] - meanG - xhat * meanGXhat);
          });
        }
      });
  detail::parallelRanges(cols, detail::minColsPerThread(rows),
                         [&](int64_t begin, int64_t end) {
                           if (!accumulate)
                             for (int64_t c = begin; c < end; ++c)
                               dgamma[c] = dbeta[c] = 0.0f;
                           for (int64_t r = 0; r < rows; ++r) {
                             const float *x = inp + r * cols;
                             const float *dy = dout + r * cols;
                             float mu = mean[r];
                             float s = rstd[r];
                             for (int64_t c = begin; c < end; ++c) {
                               dgamma[c] += dy[c] * (x[c] - mu) * s;
                               dbeta[c] += dy[c];
                             }
                           }
                         });
}

} // namespace giga::kernels
