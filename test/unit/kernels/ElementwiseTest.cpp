//===- ElementwiseTest.cpp - add, fill, bias and GELU kernels -------------===//

#include "runtime/kernels/Elementwise.h"
#include "GradCheck.h"

namespace giga::kernels::test {
namespace {

TEST(Elementwise, AddAndScale) {
  std::vector<float> a = {1, 2, 3}, b = {0.5f, -2, 4}, out(3);
  add(out.data(), a.data(), b.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{1.5f, 0, 7}));
  scale(out.data(), 0.5f, 3);
  EXPECT_EQ(out, (std::vector<float>{0.75f, 0, 3.5f}));
}

TEST(Elementwise, FillAndIota) {
  std::vector<float> x(7, 1.0f);
  fill(x.data(), 5, -2.5f);
  EXPECT_EQ(x, (std::vector<float>{-2.5f, -2.5f, -2.5f, -2.5f, -2.5f, 1, 1}));
  fill(x.data(), 0, 9.0f);
  EXPECT_EQ(x[0], -2.5f);

  std::vector<int32_t> ids(6, -1);
  iota(ids.data(), 5);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 1, 2, 3, 4, -1}));
  iota(ids.data(), 0);
  EXPECT_EQ(ids[0], 0);
}

// Each out[r, c] is one float add, so the result is exact against a + b.
TEST(Elementwise, AddBroadcastAddsTheRowToEveryRow) {
  const int64_t rows = 5, cols = 13;
  std::vector<float> a = randomFloats(rows * cols, 11);
  std::vector<float> b = randomFloats(cols, 12);
  std::vector<float> out(a.size(), std::numeric_limits<float>::quiet_NaN());
  addBroadcast(out.data(), a.data(), b.data(), rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(out[r * cols + c], a[r * cols + c] + b[c]) << r << "," << c;
  std::vector<float> inPlace = a;
  addBroadcast(inPlace.data(), inPlace.data(), b.data(), rows, cols);
  EXPECT_EQ(inPlace, out);
  // rows == 1 is add(); rows == 0 writes nothing.
  std::vector<float> one(cols);
  addBroadcast(one.data(), a.data(), b.data(), 1, cols);
  EXPECT_EQ(one, std::vector<float>(out.begin(), out.begin() + cols));
  std::vector<float> untouched(cols, 3.0f);
  addBroadcast(untouched.data(), a.data(), b.data(), 0, cols);
  EXPECT_EQ(untouched, std::vector<float>(cols, 3.0f));
}

// Row order in fp32: y = x[0], then y += x[r], so an fp32 loop over rows in
// the same order gives the same bits; the double sum checks the values.
TEST(Elementwise, SumRowsSumsInRowOrder) {
  for (auto [rows, cols] :
       {std::pair<int64_t, int64_t>{1, 9}, {7, 33}, {64, 5}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    std::vector<float> x = randomFloats(rows * cols, 13);
    std::vector<float> y(cols, std::numeric_limits<float>::quiet_NaN());
    sumRows(y.data(), x.data(), rows, cols);
    std::vector<double> yRef(cols, 0.0);
    for (int64_t c = 0; c < cols; ++c) {
      float s = x[c];
      for (int64_t r = 1; r < rows; ++r)
        s += x[r * cols + c];
      ASSERT_EQ(y[c], s) << c;
      for (int64_t r = 0; r < rows; ++r)
        yRef[c] += x[r * cols + c];
    }
    expectClose("y", y, yRef, 1e-6);
  }
  std::vector<float> y(4, std::numeric_limits<float>::quiet_NaN());
  sumRows(y.data(), nullptr, 0, 4);
  EXPECT_EQ(y, std::vector<float>(4, 0.0f)) << "no rows sum to zero";
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

} // namespace
} // namespace giga::kernels::test
