//===- Bf16Test.cpp - fp32 to bf16 rounding -------------------------------===//

#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace giga::kernels::test {
namespace {

float bits(uint32_t pattern) {
  float x;
  std::memcpy(&x, &pattern, sizeof x);
  return x;
}

TEST(Bf16, RoundsToNearestTiesToEven) {
  EXPECT_EQ(toBf16(1.0f), 0x3f80);
  EXPECT_EQ(toBf16(-2.0f), 0xc000);
  // bf16 spacing at 1 is 2^-7. Halfway cases go to the even neighbour.
  EXPECT_EQ(toBf16(1.0f + 0x1p-8f), 0x3f80);            // down to 1
  EXPECT_EQ(toBf16(1.0f + 3 * 0x1p-8f), 0x3f82);        // up to 1 + 2^-6
  EXPECT_EQ(toBf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81); // above half: up
  EXPECT_EQ(toBf16(1.0f + 0x1p-8f - 0x1p-20f), 0x3f80); // below half: down
  EXPECT_EQ(toBf16(-(1.0f + 3 * 0x1p-8f)), 0xbf82);
  for (float x : {1.0f, 0.3f, -7.25f, 1e-30f, 3e30f})
    EXPECT_LE(std::abs(fromBf16(toBf16(x)) - x), std::abs(x) * 0x1p-8f) << x;
}

TEST(Bf16, KeepsInfinitiesNaNsAndSubnormals) {
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(toBf16(inf), 0x7f80);
  EXPECT_EQ(toBf16(-inf), 0xff80);
  EXPECT_EQ(toBf16(std::numeric_limits<float>::max()), 0x7f80); // overflows
  // A NaN whose payload lives only in the low half must not become inf.
  float lowNaN = bits(0x7f800001u), negNaN = bits(0xff800001u);
  EXPECT_TRUE(std::isnan(fromBf16(toBf16(lowNaN))));
  EXPECT_TRUE(std::isnan(fromBf16(toBf16(negNaN))));
  EXPECT_TRUE(std::signbit(fromBf16(toBf16(negNaN))));
  EXPECT_TRUE(std::isnan(fromBf16(toBf16(std::nanf("")))));
  float subnormal = bits(0x00012345u);
  EXPECT_EQ(toBf16(subnormal), 0x0001);
  EXPECT_EQ(toBf16(-0.0f), 0x8000);
}

TEST(Bf16, ArrayConversionMatchesScalarOnEveryThreadCount) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> pattern;
  std::vector<float> x(100003);
  for (float &v : x)
    v = bits(pattern(rng)); // every kind of value, NaNs included
  int before = matmulThreads();
  for (int threads : {1, 2, 3}) {
    setMatmulThreads(threads);
    std::vector<uint16_t> out(x.size());
    toBf16(out.data(), x.data(), int64_t(x.size()));
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(out[i], toBf16(x[i]))
          << "element " << i << ", " << threads << " threads";
  }
  setMatmulThreads(before);
}

} // namespace
} // namespace giga::kernels::test
