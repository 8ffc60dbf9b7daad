//===- Optimizer.cpp - optimizer updates and gradient clipping ------------===//

#include "runtime/kernels/Optimizer.h"
#include "runtime/kernels/Detail.h"

#include <cmath>

namespace giga::kernels {

void adamwUpdate(float *param, const float *grad, float *m, float *v, int64_t n,
                 const AdamWConfig &config, int64_t step, bool applyDecay) {
  // Scalars in double as PyTorch computes them (Python floats); elements in
  // fp32 in PyTorch's order so trajectories agree to rounding.
  double biasCorrection1 = 1.0 - std::pow(config.beta1, double(step));
  double biasCorrection2 = 1.0 - std::pow(config.beta2, double(step));
  float stepSize = static_cast<float>(config.lr / biasCorrection1);
  float biasCorrection2Sqrt = static_cast<float>(std::sqrt(biasCorrection2));
  float decayFactor =
      applyDecay ? static_cast<float>(1.0 - config.lr * config.weightDecay)
                 : 1.0f;
  float oneMinusBeta1 = static_cast<float>(1.0 - config.beta1);
  float oneMinusBeta2 = static_cast<float>(1.0 - config.beta2);
  float beta2 = static_cast<float>(config.beta2);
  float eps = static_cast<float>(config.eps);
  float gradScale = config.gradScale;
  detail::parallelRanges(
      n, detail::kMinElementsPerThread, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          float g = grad[i] * gradScale;
          float p = param[i] * decayFactor;
          float mi = m[i] + oneMinusBeta1 * (g - m[i]); // torch: exp_avg.lerp_
          float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
          float denom = std::sqrt(vi) / biasCorrection2Sqrt + eps;
          param[i] = p - stepSize * (mi / denom);
          m[i] = mi;
          v[i] = vi;
        }
      });
}

void sgdUpdate(float *param, const float *grad, float *velocity, int64_t n,
               const SgdConfig &config) {
  float lr = static_cast<float>(config.lr);
  float momentum = static_cast<float>(config.momentum);
  float weightDecay = static_cast<float>(config.weightDecay);
  detail::parallelRanges(
      n, detail::kMinElementsPerThread, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          float g = grad[i] * config.gradScale + weightDecay * param[i];
          if (momentum != 0.0f) {
            // Zero-initialized velocity makes the first step velocity = g, as
            // torch's first-step special case.
            float vel = momentum * velocity[i] + g;
            velocity[i] = vel;
            g = config.nesterov ? g + momentum * vel : vel;
          }
          param[i] -= lr * g;
        }
      });
}

namespace {
// Blocks of a fixed size, summed in order: the same bits on any thread
// count (a per-thread partial sum would depend on how many there are).
constexpr int64_t kSquaresBlock = 1 << 14;

// One function for both kernels below, so that a block's sum has the same
// bits whether it was accumulated first or not.
[[gnu::noinline]] double blockSumOfSquares(const float *x, int64_t count) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < count; ++i)
    sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

/// f(begin, count) on each block, in parallel; their sums added in order.
template <typename F> double sumOverBlocks(int64_t n, F f) {
  int64_t blocks = (n + kSquaresBlock - 1) / kSquaresBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
  detail::parallelRanges(blocks, 2, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      partial[size_t(b)] =
          f(b * kSquaresBlock, std::min(kSquaresBlock, n - b * kSquaresBlock));
  });
  double sum = 0.0;
  for (double blockSum : partial)
    sum += blockSum;
  return sum;
}
} // namespace

double sumOfSquares(const float *x, int64_t n) {
  return sumOverBlocks(n, [&](int64_t begin, int64_t count) {
    return blockSumOfSquares(x + begin, count);
  });
}

double accumulateSumOfSquares(float *dst, const float *src, int64_t n) {
  return sumOverBlocks(n, [&](int64_t begin, int64_t count) {
    for (int64_t i = begin; i < begin + count; ++i)
      dst[i] += src[i];
    return blockSumOfSquares(dst + begin, count);
  });
}

double globalNorm(const std::vector<ConstFloatSpan> &tensors) {
  double sum = 0.0;
  for (const ConstFloatSpan &t : tensors)
    sum += sumOfSquares(t.data, t.size);
  return std::sqrt(sum);
}

float clipCoefficient(double norm, float maxNorm) {
  double coefficient = maxNorm / (norm + 1e-6);
  return coefficient < 1.0 ? static_cast<float>(coefficient) : 1.0f;
}

} // namespace giga::kernels
