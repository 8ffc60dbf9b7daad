//===- MatmulTest.cpp - oneDNN matmul against reference loops -------------===//

#include "runtime/kernels/Matmul.h"
#include "GradCheck.h"
#include "runtime/kernels/Bf16.h"

#include <stdexcept>

namespace giga::kernels::test {
namespace {

struct Dims {
  int64_t m, n, k;
};

// fp32 dot products of length k err by at most ~k * 6e-8 * sum |a b|
// (Higham's gamma_k); with k <= 64 and |a|, |b| <= 1 that is < 4e-6 * k, so
// 1e-5 relative to sum |a b| (plus the accumulated C) is a safe bound while a
// wrong transpose or dropped alpha errs by O(1).
//
// In bf16 precision the reference multiplies the operands rounded to bf16:
// their products are exact in fp32, so the same bound holds, while operands
// truncated instead of rounded to nearest, or left in fp32, err by ~2^-9.
void checkMatmul(const MatmulShape &s, uint32_t seed) {
  SCOPED_TRACE(s.str());
  int64_t bBatch = s.broadcastB ? 1 : s.batch;
  std::vector<float> a = randomFloats(s.batch * s.m * s.k, seed);
  std::vector<float> b = randomFloats(bBatch * s.k * s.n, seed + 1);
  std::vector<float> c0 = randomFloats(s.batch * s.m * s.n, seed + 2);
  std::vector<float> c = c0;
  matmul(s, a.data(), b.data(), c.data());
  if (s.precision == MatmulPrecision::Bf16)
    for (std::vector<float> *operand : {&a, &b})
      for (float &x : *operand)
        x = fromBf16(toBf16(x));

  std::vector<double> product =
      ref::matmul(toDouble(a), toDouble(b), s.batch, s.m, s.n, s.k, s.transA,
                  s.transB, s.broadcastB);
  std::vector<double> absA(a.size()), absB(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    absA[i] = std::abs(a[i]);
  for (size_t i = 0; i < b.size(); ++i)
    absB[i] = std::abs(b[i]);
  std::vector<double> bound = ref::matmul(absA, absB, s.batch, s.m, s.n, s.k,
                                          s.transA, s.transB, s.broadcastB);
  for (size_t i = 0; i < c.size(); ++i) {
    double expected = s.alpha * product[i] + (s.accumulate ? c0[i] : 0.0);
    ASSERT_NEAR(c[i], expected, 1e-5 * (std::abs(s.alpha) * bound[i] + 1.0))
        << "element " << i;
  }
}

void checkEveryCombination(MatmulPrecision precision) {
  uint32_t seed = 1;
  // m = 1: a decode step's row times a matrix, which MatmulPlan multiplies
  // itself (rows left over after the fours, k with a vector's remainder).
  for (Dims d : {Dims{17, 48, 16}, Dims{5, 7, 3}, Dims{32, 64, 64},
                 Dims{1, 7, 3}, Dims{1, 299, 77}})
    for (int64_t batch : {1, 3})
      for (bool transA : {false, true})
        for (bool transB : {false, true})
          for (bool broadcastB : {false, true})
            for (bool accumulate : {false, true})
              for (float alpha : {1.0f, 0.25f}) {
                if (broadcastB && batch == 1)
                  continue;
                MatmulShape s{batch,  d.m,        d.n,        d.k,  transA,
                              transB, broadcastB, accumulate, alpha};
                s.precision = precision;
                checkMatmul(s, seed += 3);
              }
}

TEST(Matmul, EveryTransposeBatchBroadcastAndAccumulateCombination) {
  checkEveryCombination(MatmulPrecision::F32);
}

TEST(Matmul, Bf16RoundsOperandsToNearestAndAccumulatesInFp32) {
  if (!hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16, AMX)";
  checkEveryCombination(MatmulPrecision::Bf16);
}

TEST(Matmul, Bf16IsNotFp32) {
  if (!hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16, AMX)";
  // 1 + 2^-10 is 1 in bf16 (7 mantissa bits): the bf16 product says so.
  MatmulShape s{1, 1, 1, 1};
  s.precision = MatmulPrecision::Bf16;
  float a = 1.0f + 0x1p-10f, b = 3.0f, c = 0.0f;
  matmul(s, &a, &b, &c);
  EXPECT_EQ(c, 3.0f);
  s.precision = MatmulPrecision::F32;
  matmul(s, &a, &b, &c);
  EXPECT_EQ(c, 3.0f + 3 * 0x1p-10f);
}

TEST(Matmul, Bf16WithoutBf16ArithmeticIsRefused) {
  if (hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has bf16 arithmetic; the avx2.* build of this "
                    "test covers the refusal";
  MatmulShape s{1, 4, 4, 4};
  s.precision = MatmulPrecision::Bf16;
  try {
    MatmulPlan plan(s);
    FAIL() << "a bf16 plan was created on a CPU without bf16 arithmetic";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("AVX512_BF16 or AMX-BF16"),
              std::string::npos)
        << e.what();
  }
}

TEST(Matmul, PlanIsCreatedOnceAndReusedWithNewData) {
  MatmulShape s{2, 9, 11, 13};
  s.transB = true;
  MatmulPlan plan(s);
  for (uint32_t seed : {100u, 200u}) {
    std::vector<float> a = randomFloats(2 * 9 * 13, seed);
    std::vector<float> b = randomFloats(2 * 11 * 13, seed + 1);
    std::vector<float> c(2 * 9 * 11);
    plan.run(a.data(), b.data(), c.data());
    std::vector<double> expected =
        ref::matmul(toDouble(a), toDouble(b), 2, 9, 11, 13, false, true, false);
    expectClose("c", c, expected, 1e-6);
  }

  std::vector<float> a(6, 1.0f), b(6, 1.0f), c(4);
  MatmulShape small{1, 2, 2, 3};
  size_t before = matmulCacheSize();
  matmul(small, a.data(), b.data(), c.data());
  matmul(small, a.data(), b.data(), c.data());
  EXPECT_EQ(matmulCacheSize(), before + 1);
  EXPECT_EQ(c, std::vector<float>(4, 3.0f));
}

TEST(Matmul, EmptyInnerDimensionGivesZeroOrKeepsAccumulator) {
  std::vector<float> c(6, 7.0f);
  MatmulShape s{1, 2, 3, 0};
  matmul(s, nullptr, nullptr, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
  c.assign(6, 7.0f);
  s.accumulate = true;
  matmul(s, nullptr, nullptr, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 7.0f));
}

TEST(Matmul, NegativeDimensionIsRejected) {
  EXPECT_THROW(MatmulPlan(MatmulShape{1, -1, 2, 2}), std::invalid_argument);
  EXPECT_THROW(setMatmulThreads(0), std::invalid_argument);
}

// The VJP of y = x W^T (torch.nn.Linear, W [out, in]) as the backward pass
// runs it with this kernel: dx = dy W, dW += dy^T x (accumulated, since a
// tied weight receives gradients from several uses).
TEST(Matmul, LinearLayerGradientsMatchFiniteDifferences) {
  const int64_t rows = 7, in = 12, out = 5;
  std::vector<float> x = randomFloats(rows * in, 11);
  std::vector<float> w = randomFloats(out * in, 12);
  std::vector<float> dy = randomFloats(rows * out, 13);

  std::vector<float> y(rows * out);
  matmul(MatmulShape{1, rows, out, in, false, true}, x.data(), w.data(),
         y.data());
  std::vector<double> yRef = ref::matmul(toDouble(x), toDouble(w), 1, rows, out,
                                         in, false, true, false);
  expectClose("y", y, yRef, 1e-6);

  auto grads = runBackward({x.size(), w.size()},
                           [&](std::vector<std::vector<float>> &g, bool acc) {
                             MatmulShape dxShape{1, rows, in, out};
                             dxShape.accumulate = acc;
                             matmul(dxShape, dy.data(), w.data(), g[0].data());
                             MatmulShape dwShape{1, out, in, rows};
                             dwShape.transA = true;
                             dwShape.accumulate = acc;
                             matmul(dwShape, dy.data(), x.data(), g[1].data());
                           });

  std::vector<double> dyD = toDouble(dy);
  auto lossX = [&](const std::vector<double> &xd) {
    return dot(dyD, ref::matmul(xd, toDouble(w), 1, rows, out, in, false, true,
                                false));
  };
  auto lossW = [&](const std::vector<double> &wd) {
    return dot(dyD, ref::matmul(toDouble(x), wd, 1, rows, out, in, false, true,
                                false));
  };
  expectClose("dx", grads[0], numericGradient(lossX, toDouble(x)),
              kGradTolerance);
  expectClose("dW", grads[1], numericGradient(lossW, toDouble(w)),
              kGradTolerance);
}

} // namespace
} // namespace giga::kernels::test
