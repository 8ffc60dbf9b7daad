//===- Elementwise.h - elementwise and layout kernels -----------*- C++ -*-===//
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

/// out = a + b over n elements. Its backward is the identity (see accumulate).
void add(float *out, const float *a, const float *b, int64_t n);
/// dst += src: sums gradients at a fan-out point.
void accumulate(float *dst, const float *src, int64_t n);
/// x *= factor (e.g. the gradient clip coefficient).
void scale(float *x, float factor, int64_t n);

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

/// out[a, c, b, d] = inp[a, b, c, d] for inp of shape [d0, d1, d2, d3]; e.g.
/// [B, T, H, D] -> [B, H, T, D] for attention heads. Its own backward with
/// d1 and d2 swapped.
void swapAxes12(float *out, const float *inp, int64_t d0, int64_t d1,
                int64_t d2, int64_t d3);

/// out[r, :] = inp[r, offset : offset + outCols] for inp of [rows, inCols]:
/// splits the fused qkv projection into q, k and v.
void sliceColumnsForward(float *out, const float *inp, int64_t rows,
                         int64_t inCols, int64_t offset, int64_t outCols);
/// dinp[r, offset : offset + outCols] (+)= dout[r, :]; other columns of dinp
/// are left untouched so the three slices of qkv can each write theirs.
void sliceColumnsBackward(float *dinp, const float *dout, int64_t rows,
                          int64_t inCols, int64_t offset, int64_t outCols,
                          bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_ELEMENTWISE_H
