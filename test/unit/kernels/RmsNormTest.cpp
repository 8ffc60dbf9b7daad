//===- RmsNormTest.cpp - rmsnorm forward and gradients --------------------===//

#include "runtime/kernels/RmsNorm.h"
#include "GradCheck.h"

#include <cmath>

namespace giga::kernels::test {
namespace {

/// x * rsqrt(mean(x²) + eps) * weight per row, in double (as the parity
/// test's reference writes it).
std::vector<double> referenceRmsNorm(const std::vector<double> &x,
                                     const std::vector<double> &weight,
                                     int64_t rows, int64_t cols, double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double sumSq = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      sumSq += x[r * cols + c] * x[r * cols + c];
    double s = 1.0 / std::sqrt(sumSq / cols + eps);
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = x[r * cols + c] * s * weight[c];
  }
  return y;
}

class RmsNorm : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(RmsNorm, ForwardMatchesReferenceAndGradientsMatchFiniteDifferences) {
  auto [rows, cols] = GetParam();
  const float eps = 1e-5f;
  std::vector<float> x = randomFloats(rows * cols, 11, -2.0f, 3.0f);
  std::vector<float> weight = randomFloats(cols, 12, 0.5f, 1.5f);
  std::vector<float> y(rows * cols), rstd(rows);
  rmsnormForward(y.data(), rstd.data(), x.data(), weight.data(), rows, cols,
                 eps);
  std::vector<double> xD = toDouble(x), weightD = toDouble(weight);
  expectClose("y", y, referenceRmsNorm(xD, weightD, rows, cols, eps), 1e-5);

  std::vector<float> dy = randomFloats(rows * cols, 13);
  auto grads = runBackward({x.size(), size_t(cols)}, [&](auto &g, bool acc) {
    rmsnormBackward(g[0].data(), g[1].data(), dy.data(), x.data(),
                    weight.data(), rstd.data(), rows, cols, acc);
  });
  std::vector<double> dyD = toDouble(dy);
  auto lossX = [&](const std::vector<double> &v) {
    return dot(dyD, referenceRmsNorm(v, weightD, rows, cols, eps));
  };
  auto lossWeight = [&](const std::vector<double> &v) {
    return dot(dyD, referenceRmsNorm(xD, v, rows, cols, eps));
  };
  expectClose("dx", grads[0], numericGradient(lossX, xD), kGradTolerance);
  expectClose("dweight", grads[1], numericGradient(lossWeight, weightD),
              kGradTolerance);
}

INSTANTIATE_TEST_SUITE_P(Kernels, RmsNorm,
                         ::testing::Values(std::pair<int64_t, int64_t>{5, 48},
                                           std::pair<int64_t, int64_t>{4, 16},
                                           std::pair<int64_t, int64_t>{3, 17}));

} // namespace
} // namespace giga::kernels::test
