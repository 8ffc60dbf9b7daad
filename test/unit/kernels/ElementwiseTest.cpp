//===- ElementwiseTest.cpp - bias, add, GELU and layout kernels -----------===//

#include "runtime/kernels/Elementwise.h"
#include "GradCheck.h"

namespace giga::kernels::test {
namespace {

TEST(Elementwise, AddAccumulateAndScale) {
  std::vector<float> a = {1, 2, 3}, b = {0.5f, -2, 4}, out(3);
  add(out.data(), a.data(), b.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{1.5f, 0, 7}));
  accumulate(out.data(), a.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{2.5f, 2, 10}));
  scale(out.data(), 0.5f, 3);
  EXPECT_EQ(out, (std::vector<float>{1.25f, 1, 5}));
}

TEST(Elementwise, BiasAddForwardAndBackward) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{5, 48}, {4, 16}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    std::vector<float> x = randomFloats(rows * cols, 1);
    std::vector<float> bias = randomFloats(cols, 2);
    std::vector<float> y(rows * cols);
    biasAddForward(y.data(), x.data(), bias.data(), rows, cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(y[r * cols + c], x[r * cols + c] + bias[c]);

    std::vector<float> dy = randomFloats(rows * cols, 3);
    auto grads = runBackward({size_t(cols)}, [&](auto &g, bool acc) {
      biasAddBackward(g[0].data(), dy.data(), rows, cols, acc);
    });
    std::vector<double> dyD = toDouble(dy);
    auto loss = [&](const std::vector<double> &b) {
      double s = 0.0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          s += dyD[r * cols + c] * (x[r * cols + c] + b[c]);
      return s;
    };
    expectClose("dbias", grads[0], numericGradient(loss, toDouble(bias)),
                kGradTolerance);
  }
}

class Gelu : public ::testing::TestWithParam<GeluApproximation> {};

// fp32 erf/tanh are accurate to a few ulp, so the forward matches the double
// reference to 1e-6 in norm.
TEST_P(Gelu, ForwardMatchesReferenceAndBackwardMatchesFiniteDifferences) {
  bool useTanh = GetParam() == GeluApproximation::Tanh;
  const int64_t n = 101;
  std::vector<float> x = randomFloats(n, 5, -4.0f, 4.0f);
  std::vector<float> y(n);
  geluForward(y.data(), x.data(), n, GetParam());
  std::vector<double> yRef(n);
  for (int64_t i = 0; i < n; ++i)
    yRef[i] = ref::gelu(x[i], useTanh);
  expectClose("gelu", y, yRef, 1e-6);

  std::vector<float> dy = randomFloats(n, 6);
  auto grads = runBackward({size_t(n)}, [&](auto &g, bool acc) {
    geluBackward(g[0].data(), x.data(), dy.data(), n, GetParam(), acc);
  });
  auto loss = [&](const std::vector<double> &xd) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i)
      s += dy[i] * ref::gelu(xd[i], useTanh);
    return s;
  };
  expectClose("dx", grads[0], numericGradient(loss, toDouble(x)),
              kGradTolerance);
}

TEST_P(Gelu, ExactAndTanhVariantsDiffer) {
  // Guards against both variants silently running the same formula.
  float x = 1.5f, exact, approx;
  geluForward(&exact, &x, 1, GeluApproximation::None);
  geluForward(&approx, &x, 1, GeluApproximation::Tanh);
  EXPECT_GT(std::abs(exact - approx), 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(Kernels, Gelu,
                         ::testing::Values(GeluApproximation::None,
                                           GeluApproximation::Tanh));

TEST(Elementwise, SwapAxes12IsItsOwnInverseWithSwappedDims) {
  const int64_t b = 2, t = 5, h = 3, d = 4;
  std::vector<float> x = randomFloats(b * t * h * d, 7);
  std::vector<float> y(x.size()), back(x.size());
  swapAxes12(y.data(), x.data(), b, t, h, d);
  // y is [b, h, t, d]
  EXPECT_EQ(y[((1 * h + 2) * t + 3) * d + 1], x[((1 * t + 3) * h + 2) * d + 1]);
  swapAxes12(back.data(), y.data(), b, h, t, d);
  EXPECT_EQ(back, x);
}

TEST(Elementwise, SliceColumnsSplitsAndReassemblesQkv) {
  const int64_t rows = 3, c = 4;
  std::vector<float> qkv = randomFloats(rows * 3 * c, 8);
  std::vector<float> dqkv(qkv.size(), 1.0f);
  for (int64_t part = 0; part < 3; ++part) {
    std::vector<float> slice(rows * c);
    sliceColumnsForward(slice.data(), qkv.data(), rows, 3 * c, part * c, c);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j)
        ASSERT_EQ(slice[r * c + j], qkv[r * 3 * c + part * c + j]);
    sliceColumnsBackward(dqkv.data(), slice.data(), rows, 3 * c, part * c, c,
                         /*accumulate=*/false);
  }
  EXPECT_EQ(dqkv, qkv);
  std::vector<float> ones(rows * c, 1.0f);
  sliceColumnsBackward(dqkv.data(), ones.data(), rows, 3 * c, c, c,
                       /*accumulate=*/true);
  EXPECT_EQ(dqkv[c], qkv[c] + 1.0f);
  EXPECT_EQ(dqkv[0], qkv[0]);
}

} // namespace
} // namespace giga::kernels::test
