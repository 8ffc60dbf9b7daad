//===- OptimizerTest.cpp - AdamW, SGD and gradient clipping ---------------===//

#include "runtime/kernels/Optimizer.h"
#include "GradCheck.h"

#include <cmath>

namespace giga::kernels::test {
namespace {

// Two AdamW steps by hand, lr 0.1, betas (0.9, 0.95), eps 1e-8, decay 0.1,
// p0 = 1, gradients 0.5 then -0.25:
//   step 1: p = 1 * (1 - 0.1 * 0.1) = 0.99; m = 0.05; v = 0.0125;
//           mhat = 0.05 / 0.1 = 0.5; vhat = 0.0125 / 0.05 = 0.25;
//           p -= 0.1 * 0.5 / (0.5 + 1e-8)          -> 0.890000002
//   step 2: p = 0.890000002 * 0.99; m = 0.045 - 0.025 = 0.02;
//           v = 0.011875 + 0.003125 = 0.015;
//           mhat = 0.02 / 0.19; vhat = 0.015 / 0.0975;
//           p -= 0.1 * mhat / (sqrt(vhat) + 1e-8)  -> 0.8542630578558273
// Without decay the steps are the same, from 1: 0.900000002, 0.8731630578758.
// fp32 holds these to ~1e-7; 1e-6 tolerates that, while a missing bias
// correction (step 1 update 0.1 -> 0.0447) or coupled decay fails by 1e-2.
TEST(AdamW, TwoStepsMatchHandComputedValues) {
  AdamWConfig config;
  config.lr = 0.1;
  config.beta1 = 0.9;
  config.beta2 = 0.95;
  config.eps = 1e-8;
  config.weightDecay = 0.1;
  const float grads[2] = {0.5f, -0.25f};
  const double expectDecay[2] = {0.890000002, 0.8542630578558273};
  const double expectNoDecay[2] = {0.900000002, 0.8731630578758274};
  for (bool decay : {true, false}) {
    float p = 1.0f, m = 0.0f, v = 0.0f;
    for (int step = 1; step <= 2; ++step) {
      adamwUpdate(&p, &grads[step - 1], &m, &v, 1, config, step, decay);
      EXPECT_NEAR(p, (decay ? expectDecay : expectNoDecay)[step - 1], 1e-6)
          << "decay=" << decay << " step " << step;
    }
    EXPECT_NEAR(m, 0.02, 1e-7);
    EXPECT_NEAR(v, 0.015, 1e-8);
  }
}

TEST(AdamW, GradScaleEqualsScalingTheGradient) {
  AdamWConfig config;
  config.weightDecay = 0.1;
  std::vector<float> grad = randomFloats(33, 1);
  std::vector<float> scaled = grad;
  for (float &g : scaled)
    g *= 0.3f;
  std::vector<float> p1 = randomFloats(33, 2), p2 = p1;
  std::vector<float> m1(33), v1(33), m2(33), v2(33);
  config.gradScale = 0.3f;
  adamwUpdate(p1.data(), grad.data(), m1.data(), v1.data(), 33, config, 1,
              true);
  config.gradScale = 1.0f;
  adamwUpdate(p2.data(), scaled.data(), m2.data(), v2.data(), 33, config, 1,
              true);
  EXPECT_EQ(p1, p2);
  EXPECT_EQ(m1, m2);
}

// lr 0.1, momentum 0.9, weight decay 0.01, p0 = 1, gradients 0.5, -0.25:
//   step 1: d = 0.5 + 0.01 = 0.51; buf = 0.51; p = 1 - 0.051 = 0.949
//   step 2: d = -0.25 + 0.00949 = -0.24051; buf = 0.459 - 0.24051 = 0.21849;
//           p = 0.949 - 0.021849 = 0.927151
// Nesterov steps with d + 0.9 buf instead: p = 0.9031, then
//   d = -0.25 + 0.009031 = -0.240969; buf = 0.459 - 0.240969 = 0.218031;
//   p = 0.9031 - 0.1 (d + 0.9 buf) = 0.90757411.
TEST(Sgd, TwoStepsWithMomentumMatchHandComputedValues) {
  SgdConfig config;
  config.lr = 0.1;
  config.momentum = 0.9;
  config.weightDecay = 0.01;
  const float grads[2] = {0.5f, -0.25f};
  for (bool nesterov : {false, true}) {
    config.nesterov = nesterov;
    float p = 1.0f, velocity = 0.0f;
    sgdUpdate(&p, &grads[0], &velocity, 1, config);
    EXPECT_NEAR(p, nesterov ? 0.9031 : 0.949, 1e-6);
    sgdUpdate(&p, &grads[1], &velocity, 1, config);
    EXPECT_NEAR(p, nesterov ? 0.90757411 : 0.927151, 1e-6);
    EXPECT_NEAR(velocity, nesterov ? 0.218031 : 0.21849, 1e-6);
  }
}

TEST(GradNorm, SumsSquaresOverTensorsInDouble) {
  std::vector<float> a = {3.0f}, b = {4.0f, 0.0f};
  EXPECT_DOUBLE_EQ(globalNorm({{a.data(), 1}, {b.data(), 2}}), 5.0);
  // 2^22 squares of 0.1f: a float running sum would stall far from the
  // answer once it reaches ~2^24 ulp of the terms; double keeps ~1e-12.
  std::vector<float> many(1 << 22, 0.1f);
  double expected = double(many.size()) * double(0.1f) * double(0.1f);
  EXPECT_NEAR(sumOfSquares(many.data(), many.size()), expected,
              1e-9 * expected);
}

TEST(GradNorm, AccumulatingSumsTheSquaresOfTheSum) {
  // Several blocks and a partial one, so that a block boundary or the
  // order of the blocks' sums would show in the bits.
  const int64_t n = 3 * (1 << 14) + 777;
  std::vector<float> dst(n), src(n), expected(n);
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = float(std::sin(0.37 * double(i)));
    src[i] = float(std::cos(1.91 * double(i))) / 3.0f;
    expected[i] = dst[i] + src[i];
  }
  const double squares = accumulateSumOfSquares(dst.data(), src.data(), n);
  EXPECT_EQ(dst, expected);
  EXPECT_EQ(squares, sumOfSquares(expected.data(), n));
}

TEST(GradNorm, ClipCoefficientAsTorchClipGradNorm) {
  EXPECT_EQ(clipCoefficient(0.5, 1.0f), 1.0f);
  EXPECT_NEAR(clipCoefficient(4.0, 1.0f), 1.0 / (4.0 + 1e-6), 1e-7);
  std::vector<float> g = {3.0f, 4.0f};
  float c = clipCoefficient(globalNorm({{g.data(), 2}}), 1.0f);
  for (float &x : g)
    x *= c;
  EXPECT_NEAR(globalNorm({{g.data(), 2}}), 1.0, 1e-6);
}

} // namespace
} // namespace giga::kernels::test
