//===- Elementwise.h - elementwise kernels ----------------------*- C++ -*-===//
//
// Dense row-major fp32 buffers with explicit sizes. Forward kernels may run in
// place (out == inp). Backward kernels overwrite their gradient outputs, or add
// to them when `accumulate` is true (a gradient that flows from several uses).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_ELEMENTWISE_H
#define GIGA_RUNTIME_KERNELS_ELEMENTWISE_H

#include <cstdint>

namespace giga::kernels {

/// out = a + b over n elements. Its backward is the identity.
void add(float *out, const float *a, const float *b, int64_t n);
/// x *= factor (e.g. the gradient clip coefficient).
void scale(float *x, float factor, int64_t n);
/// out[i] = value for i < n.
void fill(float *out, int64_t n, float value);
/// out[i] = start + i for i < n (positions; start + n must fit int32).
void iota(int32_t *out, int64_t n, int32_t start = 0);

/// out[r, c] = a[r, c] + b[c]; a and out are [rows, cols], b is [cols] (an
/// add whose rhs is a suffix of the lhs's shape). add() row by row, so it may
/// run in place (out == a).
void addBroadcast(float *out, const float *a, const float *b, int64_t rows,
                  int64_t cols);
/// y[c] = sum_r x[r, c] for x of [rows, cols], summed in row order (y = row 0,
/// then each further row added); rows == 0 gives zeros. y must not overlap x.
void sumRows(float *y, const float *x, int64_t rows, int64_t cols);

/// out[r, c] = inp[r, c] + bias[c]; inp is [rows, cols].
void biasAddForward(float *out, const float *inp, const float *bias,
                    int64_t rows, int64_t cols);
/// dbias[c] = sum_r dout[r, c]. The input gradient is dout itself.
void biasAddBackward(float *dbias, const float *dout, int64_t rows,
                     int64_t cols, bool accumulate);

enum class GeluApproximation { None, Tanh };

/// GELU(x) = x * Phi(x) (None, PyTorch's default and GPT-2 in gigaGPT), or
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Tanh).
void geluForward(float *out, const float *inp, int64_t n,
                 GeluApproximation approximation);
void geluBackward(float *dinp, const float *inp, const float *dout, int64_t n,
                  GeluApproximation approximation, bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_ELEMENTWISE_H
