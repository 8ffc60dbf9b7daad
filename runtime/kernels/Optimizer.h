//===- Optimizer.h - optimizer updates and gradient clipping ----*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_OPTIMIZER_H
#define GIGA_RUNTIME_KERNELS_OPTIMIZER_H

#include <cstdint>
#include <vector>

namespace giga::kernels {

/// Hyperparameters are doubles, as PyTorch's Python floats, so the per-step
/// scalars round the same way.
struct AdamWConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.0;
  /// Multiplies the gradient before use: the clip coefficient, fused so the
  /// gradients are read once.
  float gradScale = 1.0f;
};

/// One torch.optim.AdamW step (single-tensor path, same operation order) on n
/// elements. step counts from 1 and drives the bias correction. applyDecay
/// selects decoupled weight decay for this tensor (gigaGPT: rank >= 2 only).
void adamwUpdate(float *param, const float *grad, float *m, float *v, int64_t n,
                 const AdamWConfig &config, int64_t step, bool applyDecay);

struct SgdConfig {
  double lr = 1e-2;
  double momentum = 0.0;
  /// L2 penalty added to the gradient, as torch.optim.SGD.
  double weightDecay = 0.0;
  bool nesterov = false;
  float gradScale = 1.0f;
};

/// One torch.optim.SGD step (dampening 0). velocity (n floats) must start at
/// zero; it is unused when momentum is 0.
void sgdUpdate(float *param, const float *grad, float *velocity, int64_t n,
               const SgdConfig &config);

/// sum x[i]^2, accumulated in double.
double sumOfSquares(const float *x, int64_t n);

/// dst += src, then sumOfSquares(dst, n), bit for bit, in one pass: the
/// store keeps each gradient's sum of squares as it is accumulated, so the
/// norm needs no pass of its own.
double accumulateSumOfSquares(float *dst, const float *src, int64_t n);

struct ConstFloatSpan {
  const float *data;
  int64_t size;
};

/// sqrt of the sum of squares over every tensor, accumulated in double.
double globalNorm(const std::vector<ConstFloatSpan> &tensors);

/// torch.nn.utils.clip_grad_norm_'s factor: min(1, maxNorm / (norm + 1e-6)).
/// Scale every gradient by it (scale() or AdamWConfig::gradScale).
float clipCoefficient(double norm, float maxNorm);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_OPTIMIZER_H
