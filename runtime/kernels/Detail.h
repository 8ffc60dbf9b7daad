//===- Detail.h - helpers shared by the kernel sources ----------*- C++ -*-===//
//
// Private to runtime/kernels: not part of the kernel API.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_DETAIL_H
#define GIGA_RUNTIME_KERNELS_DETAIL_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "runtime/kernels/Matmul.h"

#include <omp.h>

namespace giga::kernels::detail {

/// Below this many elements a thread's share costs less than waking it.
inline constexpr int64_t kMinElementsPerThread = 1 << 14;

/// Rows per thread for row-wise work on `cols` columns, and columns per thread
/// for column-wise sums over `rows` rows: about kMinElementsPerThread each.
inline int64_t minRowsPerThread(int64_t cols) {
  return std::max<int64_t>(1,
                           kMinElementsPerThread / std::max<int64_t>(cols, 1));
}
inline int64_t minColsPerThread(int64_t rows) {
  // At least a cache line of columns, so that threads never share one.
  return std::max<int64_t>(16,
                           kMinElementsPerThread / std::max<int64_t>(rows, 1));
}

/// Runs body(begin, end) on contiguous, disjoint pieces of [0, n) that cover
/// it, one per thread of the matmul thread count, using no more threads than
/// leave each at least `minPerThread` items (small inputs stay on the calling
/// thread, where a fork would cost more than it saves). Every item is computed
/// by one thread in the serial order, so results do not depend on the thread
/// count as long as `body` keeps each item's arithmetic to itself. Inside
/// another parallel region it runs on the calling thread. `body` must not
/// throw: an exception cannot leave an OpenMP region.
template <typename Body>
inline void parallelRanges(int64_t n, int64_t minPerThread, Body body) {
  int64_t threads = std::min<int64_t>(matmulThreads(),
                                      n / std::max<int64_t>(minPerThread, 1));
  if (threads <= 1 || omp_in_parallel()) {
    if (n > 0)
      body(int64_t(0), n);
    return;
  }
#pragma omp parallel for schedule(static, 1) num_threads(int(threads))
  for (int64_t t = 0; t < threads; ++t)
    body(n * t / threads, n * (t + 1) / threads);
}

/// dst[i] = value(i), or dst[i] += value(i) when accumulating. Two loops
/// rather than `keep * dst[i]` so that garbage (NaN) in an overwritten buffer
/// never leaks into the result.
template <typename ValueFn>
inline void storeOrAdd(float *dst, int64_t n, bool accumulate, ValueFn value) {
  if (accumulate) {
    for (int64_t i = 0; i < n; ++i)
      dst[i] += value(i);
  } else {
    for (int64_t i = 0; i < n; ++i)
      dst[i] = value(i);
  }
}

/// exp(x) in branch-free arithmetic that the compiler vectorizes (libm's expf
/// is a call per element, ~5 ns here, and only -ffast-math would vectorize it).
/// exp(x) = 2^n e^r with n = round(x / ln 2) and |r| <= ln 2 / 2, where the
/// degree-7 Taylor polynomial errs by r^8 / 8! < 6e-9, below fp32's 6e-8 ulp;
/// ln 2 is split in two (Cody-Waite) so r is exact. Measured error < 1 ulp
/// (test/unit/kernels). Results below exp(-87) flush to 0 (the true value is
/// < 1.7e-38); x > 88 gives inf; NaN stays NaN.
///
/// Ternaries rather than std::fmin/fmax/floor: those carry NaN and
/// floating-point-exception semantics that stop gcc from vectorizing them.
inline float fastExp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693359375f; // few mantissa bits: n * it is exact
  constexpr float kLn2Low = -2.12194440e-4f;
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
  constexpr float kRoundMagic = 12582912.0f;
  // NaN computes on a 0 (its result is NaN again below): converting NaN to
  // an integer is undefined.
  float clamped = x != x ? 0.0f : x;
  clamped = clamped < -87.0f ? -87.0f : clamped;
  clamped = clamped > 88.0f ? 88.0f : clamped;
  float n = (clamped * kLog2e + kRoundMagic) - kRoundMagic;
  float r = clamped - n * kLn2High;
  r = r - n * kLn2Low;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  uint32_t bits = uint32_t(static_cast<int32_t>(n) + 127) << 23;
  float twoToN;
  std::memcpy(&twoToN, &bits, sizeof(float));
  float result = p * twoToN;
  result = x < -87.0f ? 0.0f : result;
  result = x > 88.0f ? std::numeric_limits<float>::infinity() : result;
  return x != x ? x : result;
}

// erf on top of fastExp so GELU loops vectorize (std::erf is a scalar call,
// ~7.5 ns an element here). Below |x| = 1 the Maclaurin series to x^21
// (truncation < 2e-8); above, Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7),
// whose 1 - poly * exp cancels badly near 0. Both are computed and one is
// selected, which keeps the loop branch-free. Measured: |error| <= 1.8e-7.
inline float fastErf(float x) {
  float z = x < 0.0f ? -x : x;
  float z2 = z * z;
  constexpr float kTwoOverSqrtPi = 1.12837916709551257f;
  float series = 1.0f / 76204800;
  series = series * z2 - 1.0f / 6894720;
  series = series * z2 + 1.0f / 685440;
  series = series * z2 - 1.0f / 75600;
  series = series * z2 + 1.0f / 9360;
  series = series * z2 - 1.0f / 1320;
  series = series * z2 + 1.0f / 216;
  series = series * z2 - 1.0f / 42;
  series = series * z2 + 1.0f / 10;
  series = series * z2 - 1.0f / 3;
  series = series * z2 + 1.0f;
  series = kTwoOverSqrtPi * z * series;
  float t = 1.0f / (1.0f + 0.3275911f * z);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  float tail = 1.0f - poly * t * fastExp(-z2);
  float y = z < 1.0f ? series : tail;
  return x < 0.0f ? -y : y;
}

// tanh(u) = 1 - 2 / (e^(2u) + 1): saturates to +-1 without overflow, and its
// absolute error (~1e-7) is what matters once added to 1.
inline float fastTanh(float u) {
  return 1.0f - 2.0f / (fastExp(2.0f * u) + 1.0f);
}

} // namespace giga::kernels::detail

#endif // GIGA_RUNTIME_KERNELS_DETAIL_H
