//===- LayerNorm.h - layer normalization over the last dim ------*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_LAYERNORM_H
#define GIGA_RUNTIME_KERNELS_LAYERNORM_H

#include <cstdint>

namespace giga::kernels {

/// out[r, :] = (inp[r, :] - mean[r]) * rstd[r] * gamma + beta, with the biased
/// variance and rstd = 1 / sqrt(var + eps) as torch.nn.LayerNorm. inp is
/// [rows, cols]; mean and rstd ([rows]) are saved for the backward.
void layernormForward(float *out, float *mean, float *rstd, const float *inp,
                      const float *gamma, const float *beta, int64_t rows,
                      int64_t cols, float eps);

/// Gradients for inp ([rows, cols]), gamma and beta ([cols]).
void layernormBackward(float *dinp, float *dgamma, float *dbeta,
                       const float *dout, const float *inp, const float *gamma,
                       const float *mean, const float *rstd, int64_t rows,
                       int64_t cols, bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_LAYERNORM_H
