//===- LayerNormTest.cpp - layernorm forward and gradients ----------------===//

#include "runtime/kernels/LayerNorm.h"
#include "GradCheck.h"

namespace giga::kernels::test {
namespace {

class LayerNorm : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {
};

TEST_P(LayerNorm, ForwardMatchesReferenceAndGradientsMatchFiniteDifferences) {
  auto [rows, cols] = GetParam();
  const float eps = 1e-5f;
  // An offset mean checks the two-pass variance.
  std::vector<float> x = randomFloats(rows * cols, 1, 2.0f, 4.0f);
  std::vector<float> gamma = randomFloats(cols, 2, 0.5f, 1.5f);
  std::vector<float> beta = randomFloats(cols, 3);
  std::vector<float> y(rows * cols), mean(rows), rstd(rows);
  layernormForward(y.data(), mean.data(), rstd.data(), x.data(), gamma.data(),
                   beta.data(), rows, cols, eps);
  expectClose("y", y,
              ref::layernorm(toDouble(x), toDouble(gamma), toDouble(beta), rows,
                             cols, eps),
              1e-5);
  double mean0 = 0.0;
  for (int64_t c = 0; c < cols; ++c)
    mean0 += x[c];
  EXPECT_NEAR(mean[0], mean0 / cols, 1e-5);

  std::vector<float> dy = randomFloats(rows * cols, 4);
  auto grads = runBackward(
      {x.size(), size_t(cols), size_t(cols)}, [&](auto &g, bool acc) {
        layernormBackward(g[0].data(), g[1].data(), g[2].data(), dy.data(),
                          x.data(), gamma.data(), mean.data(), rstd.data(),
                          rows, cols, acc);
      });

  std::vector<double> dyD = toDouble(dy), xD = toDouble(x),
                      gammaD = toDouble(gamma), betaD = toDouble(beta);
  auto lossX = [&](const std::vector<double> &v) {
    return dot(dyD, ref::layernorm(v, gammaD, betaD, rows, cols, eps));
  };
  auto lossGamma = [&](const std::vector<double> &v) {
    return dot(dyD, ref::layernorm(xD, v, betaD, rows, cols, eps));
  };
  auto lossBeta = [&](const std::vector<double> &v) {
    return dot(dyD, ref::layernorm(xD, gammaD, v, rows, cols, eps));
  };
  expectClose("dx", grads[0], numericGradient(lossX, xD), kGradTolerance);
  expectClose("dgamma", grads[1], numericGradient(lossGamma, gammaD),
              kGradTolerance);
  expectClose("dbeta", grads[2], numericGradient(lossBeta, betaD),
              kGradTolerance);
}

INSTANTIATE_TEST_SUITE_P(Kernels, LayerNorm,
                         ::testing::Values(std::pair<int64_t, int64_t>{5, 48},
                                           std::pair<int64_t, int64_t>{4, 16},
                                           std::pair<int64_t, int64_t>{3, 17}));

} // namespace
} // namespace giga::kernels::test
