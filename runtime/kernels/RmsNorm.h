//===- RmsNorm.h - root-mean-square normalization over the last dim -*- C++
//-*-===//
#ifndef GIGA_RUNTIME_KERNELS_RMSNORM_H
#define GIGA_RUNTIME_KERNELS_RMSNORM_H

#include <cstdint>

namespace giga::kernels {

/// out[r, :] = inp[r, :] * rstd[r] * weight, rstd = 1 / sqrt(mean(inp[r]²) +
/// eps) (Zhang & Sennrich 2019; no mean subtraction, no bias). inp is
/// [rows, cols]; rstd ([rows]) is saved for the backward.
void rmsnormForward(float *out, float *rstd, const float *inp,
                    const float *weight, int64_t rows, int64_t cols, float eps);

/// Gradients for inp ([rows, cols]) and weight ([cols]).
void rmsnormBackward(float *dinp, float *dweight, const float *dout,
                     const float *inp, const float *weight, const float *rstd,
                     int64_t rows, int64_t cols, bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_RMSNORM_H
