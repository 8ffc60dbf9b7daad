//===- Elementwise.cpp - elementwise kernels ------------------------------===//
//
// Plain loops the compiler vectorizes; `omp simd` (compiled with
// -fopenmp-simd) lets it reorder float reductions, which -O3 alone may not.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Elementwise.h"
#include "runtime/kernels/Detail.h"

#include <cmath>
#include <cstring>

namespace giga::kernels {

void add(float *out, const float *a, const float *b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a[i] + b[i];
}

void accumulate(float *dst, const float *src, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] += src[i];
}

void scale(float *x, float factor, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    x[i] *= factor;
}

void fill(float *out, int64_t n, float value) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = value;
}

void iota(int32_t *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<int32_t>(i);
}

void addBroadcast(float *out, const float *a, const float *b, int64_t rows,
                  int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    add(out + r * cols, a + r * cols, b, cols);
}

void sumRows(float *y, const float *x, int64_t rows, int64_t cols) {
  if (rows == 0) {
    fill(y, cols, 0.0f);
    return;
  }
  std::memcpy(y, x, sizeof(float) * cols);
  for (int64_t r = 1; r < rows; ++r)
    accumulate(y, x + r * cols, cols);
}

void biasAddForward(float *out, const float *inp, const float *bias,
                    int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = inp + r * cols;
    float *y = out + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      y[c] = x[c] + bias[c];
  }
}

void biasAddBackward(float *dbias, const float *dout, int64_t rows,
                     int64_t cols, bool accumulate) {
  if (!accumulate)
    std::memset(dbias, 0, sizeof(float) * cols);
  // Row by row so the inner loop is contiguous and vectorizes.
  for (int64_t r = 0; r < rows; ++r) {
    const float *dy = dout + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      dbias[c] += dy[c];
  }
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
  if (approximation == GeluApproximation::Tanh) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = geluTanh(inp[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      out[i] = geluExact(inp[i]);
  }
}

void geluBackward(float *dinp, const float *inp, const float *dout, int64_t n,
                  GeluApproximation approximation, bool accumulate) {
  if (approximation == GeluApproximation::Tanh)
    detail::storeOrAdd(dinp, n, accumulate, [&](int64_t i) {
      return geluTanhGrad(inp[i]) * dout[i];
    });
  else
    detail::storeOrAdd(dinp, n, accumulate, [&](int64_t i) {
      return geluExactGrad(inp[i]) * dout[i];
    });
}

} // namespace giga::kernels
