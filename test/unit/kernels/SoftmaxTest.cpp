//===- SoftmaxTest.cpp - softmax along a middle axis ----------------------===//

#include "runtime/kernels/Softmax.h"
#include "GradCheck.h"

#include <algorithm>

namespace giga::kernels::test {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

/// x[o, :, i] gathered into rows, the softmax axis last, in double.
template <typename T>
std::vector<double> sliceRows(const std::vector<T> &x, int64_t outer,
                              int64_t len, int64_t inner) {
  std::vector<double> rows(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t j = 0; j < len; ++j)
        rows[(o * inner + i) * len + j] = x[(o * len + j) * inner + i];
  return rows;
}

/// The inverse of sliceRows.
std::vector<double> unsliceRows(const std::vector<double> &rows, int64_t outer,
                                int64_t len, int64_t inner) {
  std::vector<double> x(rows.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t j = 0; j < len; ++j)
        x[(o * len + j) * inner + i] = rows[(o * inner + i) * len + j];
  return x;
}

/// Softmax of x[o, :, i] in double; a fully masked slice gives zeros.
template <typename T>
std::vector<double> referenceSoftmax(const std::vector<T> &x, int64_t outer,
                                     int64_t len, int64_t inner) {
  std::vector<double> rows = sliceRows(x, outer, len, inner);
  for (int64_t r = 0; r < outer * inner; ++r) {
    double *row = rows.data() + r * len;
    double maxValue = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < len; ++j)
      maxValue = std::max(maxValue, row[j]);
    if (maxValue == -std::numeric_limits<double>::infinity()) {
      std::fill(row, row + len, 0.0);
      continue;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < len; ++j)
      sum += row[j] = std::exp(row[j] - maxValue);
    for (int64_t j = 0; j < len; ++j)
      row[j] /= sum;
  }
  return unsliceRows(rows, outer, len, inner);
}

struct StridedCase {
  int64_t outer, len, inner;
};

void PrintTo(const StridedCase &c, std::ostream *os) {
  *os << c.outer << "x" << c.len << "x" << c.inner;
}

class SoftmaxStrided : public ::testing::TestWithParam<StridedCase> {};

TEST_P(SoftmaxStrided, ForwardMatchesReferenceAndMaskedSlicesAreZero) {
  auto [outer, len, inner] = GetParam();
  std::vector<float> x = randomFloats(outer * len * inner, 21, -4.0f, 4.0f);
  // One entry masked, and the whole slice x[outer-1, :, inner-1].
  x[inner] = -kInf;
  for (int64_t j = 0; j < len; ++j)
    x[((outer - 1) * len + j) * inner + inner - 1] = -kInf;

  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  softmaxForwardStrided(y.data(), x.data(), outer, len, inner);

  for (int64_t j = 0; j < len; ++j)
    ASSERT_EQ(y[((outer - 1) * len + j) * inner + inner - 1], 0.0f)
        << "a fully masked slice gives 0, not NaN";
  EXPECT_EQ(y[inner], 0.0f);

  expectClose("y", y, referenceSoftmax(x, outer, len, inner), 1e-6);

  std::vector<float> inPlace = x;
  softmaxForwardStrided(inPlace.data(), inPlace.data(), outer, len, inner);
  EXPECT_EQ(inPlace, y);
}

TEST_P(SoftmaxStrided, BackwardMatchesReferenceAndFiniteDifferences) {
  auto [outer, len, inner] = GetParam();
  std::vector<float> x = randomFloats(outer * len * inner, 22, -3.0f, 3.0f);
  std::vector<float> y(x.size());
  softmaxForwardStrided(y.data(), x.data(), outer, len, inner);
  std::vector<float> dy = randomFloats(x.size(), 23);

  std::vector<float> dx(x.size(), std::numeric_limits<float>::quiet_NaN());
  softmaxBackwardStrided(dx.data(), y.data(), dy.data(), outer, len, inner);

  std::vector<double> dyD = toDouble(dy);
  auto loss = [&](const std::vector<double> &xd) {
    return dot(dyD, referenceSoftmax(xd, outer, len, inner));
  };
  expectClose("dx", dx, numericGradient(loss, toDouble(x)), kGradTolerance);

  // In place over dy and over y.
  std::vector<float> overDy = dy;
  softmaxBackwardStrided(overDy.data(), y.data(), overDy.data(), outer, len,
                         inner);
  EXPECT_EQ(overDy, dx);
  std::vector<float> overY = y;
  softmaxBackwardStrided(overY.data(), overY.data(), dy.data(), outer, len,
                         inner);
  EXPECT_EQ(overY, dx);
}

// {2, 9, 1} is the last-axis case (inner == 1); {4, 1, 3} has one-entry
// slices.
INSTANTIATE_TEST_SUITE_P(Kernels, SoftmaxStrided,
                         ::testing::Values(StridedCase{3, 7, 5},
                                           StridedCase{2, 9, 1},
                                           StridedCase{1, 3, 4},
                                           StridedCase{4, 1, 3}));

// The strided kernels use libm's exp and the row kernels a vectorized one
// (< 2 ulp apart), so they agree to rounding, not bit for bit.
TEST(Softmax, StridedWithInnerOneAgreesWithRowSoftmax) {
  const int64_t rows = 6, cols = 19;
  std::vector<float> x = randomFloats(rows * cols, 24, -5.0f, 5.0f);
  x[2] = -kInf;
  for (int64_t c = 0; c < cols; ++c)
    x[4 * cols + c] = -kInf; // row 4 fully masked
  std::vector<float> strided(x.size()), row(x.size());
  softmaxForwardStrided(strided.data(), x.data(), rows, cols, 1);
  softmaxForward(row.data(), x.data(), rows, cols);
  expectClose("y", strided, toDouble(row), 1e-6);
  EXPECT_EQ(strided[2], 0.0f);
  for (int64_t c = 0; c < cols; ++c)
    ASSERT_EQ(strided[4 * cols + c], 0.0f);

  std::vector<float> dy = randomFloats(x.size(), 25);
  std::vector<float> dxStrided(x.size()), dxRow(x.size());
  softmaxBackwardStrided(dxStrided.data(), row.data(), dy.data(), rows, cols,
                         1);
  softmaxBackward(dxRow.data(), row.data(), dy.data(), rows, cols,
                  /*accumulate=*/false);
  expectClose("dx", dxStrided, toDouble(dxRow), 1e-6);
}

} // namespace
} // namespace giga::kernels::test
