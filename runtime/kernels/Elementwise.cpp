//===- Elementwise.cpp - elementwise kernels ------------------------------===//
//
// Plain loops the compiler vectorizes; `omp simd` (compiled with
// -fopenmp-simd) lets it reorder float reductions, which -O3 alone may not.
// Elements (or rows) are split over the matmul threads; sums over rows are
// split by columns instead, so that each column still adds its rows in order
// and the bits do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Elementwise.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <cstring>

namespace giga::kernels {

using detail::kMinElementsPerThread;
using detail::minColsPerThread;
using detail::minRowsPerThread;
using detail::parallelRanges;

void add(float *out, const float *a, const float *b, int64_t n) {
  parallelRanges(n, kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = a[i] + b[i];
  });
}

void scale(float *x, float factor, int64_t n) {
  parallelRanges(n, kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      x[i] *= factor;
  });
}

void fill(float *out, int64_t n, float value) {
  parallelRanges(n, kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = value;
  });
}

void iota(int32_t *out, int64_t n, int32_t start) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = start + static_cast<int32_t>(i);
}

void addBroadcast(float *out, const float *a, const float *b, int64_t rows,
                  int64_t cols) {
  parallelRanges(rows, minRowsPerThread(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = a[r * cols + c] + b[c];
  });
}

void sumRows(float *y, const float *x, int64_t rows, int64_t cols) {
  parallelRanges(cols, minColsPerThread(rows), [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c)
      y[c] = rows > 0 ? x[c] : 0.0f;
    for (int64_t r = 1; r < rows; ++r)
      for (int64_t c = begin; c < end; ++c)
        y[c] += x[r * cols + c];
  });
}

void biasAddForward(float *out, const float *inp, const float *bias,
                    int64_t rows, int64_t cols) {
  addBroadcast(out, inp, bias, rows, cols);
}

void biasAddBackward(float *dbias, const float *dout, int64_t rows,
                     int64_t cols, bool accumulate) {
  parallelRanges(cols, minColsPerThread(rows), [&](int64_t begin, int64_t end) {
    if (!accumulate)
      for (int64_t c = begin; c < end; ++c)
        dbias[c] = 0.0f;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = begin; c < end; ++c)
        dbias[c] += dout[r * cols + c];
  });
}

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluTanhCubic = 0.044715f;

float geluExact(float x) {
  return 0.5f * x * (1.0f + detail::fastErf(x * kInvSqrt2));
}

// d/dx x Phi(x) = Phi(x) + x phi(x).
float geluExactGrad(float x) {
  float cdf = 0.5f * (1.0f + detail::fastErf(x * kInvSqrt2));
  float pdf = kInvSqrt2Pi * detail::fastExp(-0.5f * x * x);
  return cdf + x * pdf;
}

float geluTanh(float x) {
  float u = kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x);
  return 0.5f * x * (1.0f + detail::fastTanh(u));
}

float geluTanhGrad(float x) {
  float u = kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x);
  float t = detail::fastTanh(u);
  float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluTanhCubic * x * x);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}
} // namespace

void geluForward(float *out, const float *inp, int64_t n,
                 GeluApproximation approximation) {
  parallelRanges(n, kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    if (approximation == GeluApproximation::Tanh) {
      for (int64_t i = begin; i < end; ++i)
        out[i] = geluTanh(inp[i]);
    } else {
      for (int64_t i = begin; i < end; ++i)
        out[i] = geluExact(inp[i]);
    }
  });
}

void geluBackward(float *dinp, const float *inp, const float *dout, int64_t n,
                  GeluApproximation approximation, bool accumulate) {
  parallelRanges(n, kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    float *dst = dinp + begin;
    const float *x = inp + begin;
    const float *dy = dout + begin;
    if (approximation == GeluApproximation::Tanh)
      detail::storeOrAdd(dst, end - begin, accumulate,
                         [&](int64_t i) { return geluTanhGrad(x[i]) * dy[i]; });
    else
      detail::storeOrAdd(dst, end - begin, accumulate, [&](int64_t i) {
        return geluExactGrad(x[i]) * dy[i];
      });
  });
}

} // namespace giga::kernels
