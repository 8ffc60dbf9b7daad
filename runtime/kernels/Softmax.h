//===- Softmax.h - softmax along the last or a middle axis ------*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_SOFTMAX_H
#define GIGA_RUNTIME_KERNELS_SOFTMAX_H

#include <cstdint>

namespace giga::kernels {

/// out[r, :] = softmax(inp[r, :]) over [rows, cols]. -inf entries give 0; a
/// row that is entirely -inf gives 0 (not NaN).
void softmaxForward(float *out, const float *inp, int64_t rows, int64_t cols);
/// dinp = out * (dout - sum(dout * out)) per row.
void softmaxBackward(float *dinp, const float *out, const float *dout,
                     int64_t rows, int64_t cols, bool accumulate);

/// Softmax along the middle axis of x viewed as [outer, len, inner]: each of
/// the outer * inner slices x[o, :, i] (len entries, inner apart) is
/// normalized. A slice that is entirely -inf gives 0. In-place safe
/// (out == x). Plain sequential loops with libm's exp, so the result does not
/// depend on the build's -march (softmaxForward's vectorized exp may differ
/// from it by an ulp).
void softmaxForwardStrided(float *out, const float *x, int64_t outer,
                           int64_t len, int64_t inner);
/// dx = y * (dy - sum(dy * y)) per slice of softmaxForwardStrided; dx may be
/// dy or y. Overwrites dx.
void softmaxBackwardStrided(float *dx, const float *y, const float *dy,
                            int64_t outer, int64_t len, int64_t inner);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_SOFTMAX_H
