//===- AttentionTest.cpp - softmax and blocked masked attention -----------===//

#include "runtime/kernels/Attention.h"
#include "GradCheck.h"
#include "runtime/kernels/Bf16.h"

#include <stdexcept>

namespace giga::kernels::test {
namespace {

TEST(Softmax, ForwardMatchesReferenceAndBackwardMatchesFiniteDifferences) {
  const int64_t rows = 6, cols = 17;
  std::vector<float> x = randomFloats(rows * cols, 1, -3.0f, 3.0f);
  x[3] = -std::numeric_limits<float>::infinity();
  std::vector<float> y(x.size());
  softmaxForward(y.data(), x.data(), rows, cols);
  std::vector<double> yRef = toDouble(x);
  ref::softmaxRows(yRef, rows, cols);
  expectClose("y", y, yRef, 1e-6);
  EXPECT_EQ(y[3], 0.0f);

  x[3] = 0.5f; // finite differences need finite inputs
  softmaxForward(y.data(), x.data(), rows, cols);
  std::vector<float> dy = randomFloats(x.size(), 2);
  auto grads = runBackward({x.size()}, [&](auto &g, bool acc) {
    softmaxBackward(g[0].data(), y.data(), dy.data(), rows, cols, acc);
  });
  std::vector<double> dyD = toDouble(dy);
  auto loss = [&](const std::vector<double> &xd) {
    std::vector<double> p = xd;
    ref::softmaxRows(p, rows, cols);
    return dot(dyD, p);
  };
  expectClose("dx", grads[0], numericGradient(loss, toDouble(x)),
              kGradTolerance);
}

TEST(Softmax, FullyMaskedRowIsZeroNotNaN) {
  std::vector<float> x(4, -std::numeric_limits<float>::infinity()), y(4);
  softmaxForward(y.data(), x.data(), 1, 4);
  EXPECT_EQ(y, std::vector<float>(4, 0.0f));
}

struct AttentionCase {
  int64_t batch, heads, seqLen, headDim;
  float scale;
  int64_t queryBlock;
  int64_t keys = 0; // 0: seqLen
};

class Attention : public ::testing::TestWithParam<AttentionCase> {
protected:
  AttentionShape shape() const {
    AttentionCase c = GetParam();
    AttentionShape s{c.batch, c.heads, c.seqLen, c.headDim, c.scale};
    s.queryBlock = c.queryBlock;
    s.keys = c.keys;
    return s;
  }
};

/// A [t, tk] mask of dropped (-inf) and kept entries, kept with probability
/// `keep`, scaled by 0.5 where kept so that it also shifts scores.
std::vector<float> randomMask(int64_t t, int64_t tk, double keep,
                              uint32_t seed) {
  std::vector<float> u = randomFloats(t * tk, seed, 0.0f, 1.0f);
  std::vector<float> mask(t * tk);
  for (int64_t i = 0; i < t * tk; ++i)
    mask[i] =
        u[i] < keep ? 0.5f * u[i] : -std::numeric_limits<float>::infinity();
  return mask;
}

/// Checks forward against the double-precision reference and backward
/// against finite differences of it, for one mask.
void expectMatchesReference(const AttentionShape &s,
                            const std::vector<float> &mask) {
  int64_t heads = s.batch * s.heads, t = s.seqLen, tk = s.keyLen(),
          d = s.headDim;
  size_t n = s.qkvSize(), nk = s.kvSize();
  std::vector<float> q = randomFloats(n, 1), k = randomFloats(nk, 2),
                     v = randomFloats(nk, 3), dout = randomFloats(n, 7);
  std::vector<float> out(n), scratch(2 * s.scratchSize());
  attentionForward(out.data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), s);
  std::vector<double> qD = toDouble(q), kD = toDouble(k), vD = toDouble(v),
                      doutD = toDouble(dout);
  double scale = s.effectiveScale();
  // The reference gives NaN for a fully masked row; the kernel gives 0.
  std::vector<double> outRef =
      ref::attention(qD, kD, vD, mask, heads, t, d, scale, nullptr, tk);
  for (double &x : outRef)
    if (std::isnan(x))
      x = 0.0;
  expectClose("out", out, outRef, 1e-5);

  auto grads = runBackward({n, nk, nk}, [&](auto &g, bool acc) {
    attentionBackward(g[0].data(), g[1].data(), g[2].data(), scratch.data(),
                      dout.data(), q.data(), k.data(), v.data(), mask.data(), s,
                      acc);
  });
  auto loss = [&](const std::vector<double> &qx, const std::vector<double> &kx,
                  const std::vector<double> &vx) {
    double sum = 0.0;
    std::vector<double> o =
        ref::attention(qx, kx, vx, mask, heads, t, d, scale, nullptr, tk);
    for (size_t i = 0; i < o.size(); ++i)
      if (!std::isnan(o[i]))
        sum += doutD[i] * o[i];
    return sum;
  };
  expectClose("dq", grads[0],
              numericGradient([&](auto &x) { return loss(x, kD, vD); }, qD),
              kGradTolerance);
  expectClose("dk", grads[1],
              numericGradient([&](auto &x) { return loss(qD, x, vD); }, kD),
              kGradTolerance);
  expectClose("dv", grads[2],
              numericGradient([&](auto &x) { return loss(qD, kD, x); }, vD),
              kGradTolerance);
}

/// The causal mask of t queries at positions tk - t .. tk - 1 over tk keys
/// (a KV cache's last t entries): query i sees keys 0 .. tk - t + i.
std::vector<float> causalMask(int64_t t, int64_t tk) {
  std::vector<float> mask(t * tk);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < tk; ++j)
      mask[i * tk + j] =
          j <= tk - t + i ? 0.0f : -std::numeric_limits<float>::infinity();
  return mask;
}

TEST_P(Attention, CausalMatchesReferenceAndFiniteDifferences) {
  AttentionShape s = shape();
  std::vector<float> mask = causalMask(s.seqLen, s.keyLen());
  if (s.keyLen() == s.seqLen) {
    std::vector<float> square(mask.size());
    fillCausalMask(square.data(), s.seqLen);
    ASSERT_EQ(square, mask);
  }
  expectMatchesReference(s, mask);
}

TEST_P(Attention, AnyMaskMatchesReferenceAndFiniteDifferences) {
  AttentionShape s = shape();
  int64_t t = s.seqLen, tk = s.keyLen();
  // Some rows fully masked, keys kept after the diagonal: no block may be
  // skipped on the causal pattern's account.
  expectMatchesReference(s, randomMask(t, tk, 0.6, 21));
  // Only the first row keeps anything: every later block is skipped.
  std::vector<float> first(t * tk, -std::numeric_limits<float>::infinity());
  first[0] = 0.0f;
  expectMatchesReference(s, first);
}

TEST_P(Attention, IsCausal) {
  // Changing the keys and values after query `cut`'s position changes
  // nothing up to that query (to the bit: a masked entry's probability is
  // exactly 0); in self-attention position 0 sees only itself, so
  // out[0] = v[0].
  AttentionShape s = shape();
  int64_t heads = s.batch * s.heads, t = s.seqLen, tk = s.keyLen(),
          d = s.headDim;
  size_t n = s.qkvSize(), nk = s.kvSize();
  std::vector<float> q = randomFloats(n, 4), k = randomFloats(nk, 5),
                     v = randomFloats(nk, 6), mask = causalMask(t, tk), out(n),
                     later(n), scratch(s.scratchSize());
  attentionForward(out.data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), s);
  int64_t cut = t / 2, seen = tk - t + cut; // the last key query cut sees
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = (h * tk + seen + 1) * d; i < (h + 1) * tk * d; ++i) {
      k[i] = 1e3f;
      v[i] = -1e3f;
    }
  attentionForward(later.data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), s);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = h * t * d; i < (h * t + cut + 1) * d; ++i)
      ASSERT_EQ(out[i], later[i]) << "element " << i;
  if (tk == t)
    for (int64_t l = 0; l < d; ++l)
      EXPECT_NEAR(out[l], v[l], 1e-6);
}

// T not a multiple of the block, one block (T < block), several blocks with
// an explicit scale, a block of one row, and a last block of half a block.
INSTANTIATE_TEST_SUITE_P(
    Kernels, Attention,
    ::testing::Values(AttentionCase{1, 2, 17, 16, 0.0f, 4},
                      AttentionCase{2, 2, 8, 8, 0.0f, 64},
                      AttentionCase{1, 3, 5, 4, 0.7f, 2},
                      AttentionCase{1, 1, 6, 3, 0.0f, 1},
                      AttentionCase{1, 2, 40, 16, 0.0f, 16},
                      // A decode step (1 query over a cache of 37) and a
                      // chunk of 5 queries over 40 keys.
                      AttentionCase{2, 2, 1, 8, 0.0f, 64, 37},
                      AttentionCase{1, 2, 5, 8, 0.0f, 2, 40}),
    [](const ::testing::TestParamInfo<AttentionCase> &info) {
      const AttentionCase &c = info.param;
      return "B" + std::to_string(c.batch) + "H" + std::to_string(c.heads) +
             "T" + std::to_string(c.seqLen) + "D" + std::to_string(c.headDim) +
             "Block" + std::to_string(c.queryBlock) +
             (c.keys ? "Keys" + std::to_string(c.keys) : "") +
             (c.scale != 0.0f ? "Scaled" : "");
    });

TEST(AttentionPlan, BlocksAgreeWithOneBlockAndThePlanWithTheFreeFunctions) {
  // The same attention a block of 16 queries at a time and in one block of
  // all 70: the same sums in other orders; and the free functions run the
  // same plan, bit for bit.
  AttentionShape blocked{2, 3, 70, 32}, whole = blocked;
  blocked.queryBlock = 16;
  whole.queryBlock = 70;
  size_t n = blocked.qkvSize();
  std::vector<float> q = randomFloats(n, 8), k = randomFloats(n, 9),
                     v = randomFloats(n, 10), dout = randomFloats(n, 11);
  std::vector<float> mask(70 * 70);
  fillCausalMask(mask.data(), 70);
  AttentionPlan plan(blocked, /*withBackward=*/true);
  ASSERT_TRUE(plan.hasBackward());
  std::vector<float> scratch(2 * whole.scratchSize());
  std::vector<std::vector<float>> out(3, std::vector<float>(n));
  plan.forward(out[0].data(), scratch.data(), q.data(), k.data(), v.data(),
               mask.data());
  attentionForward(out[1].data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), blocked);
  attentionForward(out[2].data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), whole);
  EXPECT_EQ(out[0], out[1]);
  expectClose("out", out[0], toDouble(out[2]), 1e-6);

  std::vector<std::vector<float>> grads(9, std::vector<float>(n));
  plan.backward(grads[0].data(), grads[1].data(), grads[2].data(),
                scratch.data(), dout.data(), q.data(), k.data(), v.data(),
                mask.data(), false);
  attentionBackward(grads[3].data(), grads[4].data(), grads[5].data(),
                    scratch.data(), dout.data(), q.data(), k.data(), v.data(),
                    mask.data(), blocked, false);
  attentionBackward(grads[6].data(), grads[7].data(), grads[8].data(),
                    scratch.data(), dout.data(), q.data(), k.data(), v.data(),
                    mask.data(), whole, false);
  for (int g = 0; g < 3; ++g) {
    EXPECT_EQ(grads[g], grads[g + 3]) << "gradient " << g;
    expectClose("gradient " + std::to_string(g), grads[g],
                toDouble(grads[g + 6]), 1e-6);
  }
}

TEST(AttentionPlan, Bf16RoundsTheProductsOnly) {
  if (!hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16/AMX-BF16)";
  AttentionShape fp32{2, 2, 48, 16}, bf16 = fp32;
  fp32.queryBlock = bf16.queryBlock = 16;
  bf16.precision = MatmulPrecision::Bf16;
  size_t n = fp32.qkvSize();
  std::vector<float> q = randomFloats(n, 12), k = randomFloats(n, 13),
                     v = randomFloats(n, 14), mask(48 * 48), a(n), b(n),
                     scratch(fp32.scratchSize());
  fillCausalMask(mask.data(), 48);
  attentionForward(a.data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), fp32);
  attentionForward(b.data(), scratch.data(), q.data(), k.data(), v.data(),
                   mask.data(), bf16);
  EXPECT_NE(a, b) << "bf16 products must round their operands";
  // Operands rounded to 8 bits of mantissa: ~2^-9 relative per product.
  expectClose("bf16 out", b, toDouble(a), 1e-2);
}

TEST(AttentionPlan, RefusesBadShapesAndBackwardWithoutItsPlans) {
  AttentionShape s{1, 1, 3, 2};
  AttentionPlan plan(s);
  EXPECT_FALSE(plan.hasBackward());
  std::vector<float> x(2 * s.scratchSize() + s.qkvSize());
  EXPECT_THROW(plan.backward(x.data(), x.data(), x.data(), x.data(), x.data(),
                             x.data(), x.data(), x.data(), x.data(), false),
               std::logic_error);
  AttentionShape noBlock = s;
  noBlock.queryBlock = 0;
  EXPECT_THROW(AttentionPlan{noBlock}, std::invalid_argument);
  AttentionShape noHeads = s;
  noHeads.heads = 0;
  EXPECT_THROW(AttentionPlan{noHeads}, std::invalid_argument);
}

TEST(AttentionPlan, FreeFunctionsCacheOnePlanPerShape) {
  // A shape no other test uses, so the counts are this test's.
  AttentionShape s{1, 2, 6, 3, 0.3f};
  size_t n = s.qkvSize();
  std::vector<float> q = randomFloats(n, 12), out(n), mask(36),
                     scratch(2 * s.scratchSize()), dq(n), dk(n), dv(n);
  fillCausalMask(mask.data(), 6);
  size_t before = attentionCacheSize();
  attentionForward(out.data(), scratch.data(), q.data(), q.data(), q.data(),
                   mask.data(), s);
  attentionForward(out.data(), scratch.data(), q.data(), q.data(), q.data(),
                   mask.data(), s);
  EXPECT_EQ(attentionCacheSize(), before + 1);
  attentionBackward(dq.data(), dk.data(), dv.data(), scratch.data(), q.data(),
                    q.data(), q.data(), q.data(), mask.data(), s, false);
  EXPECT_EQ(attentionCacheSize(), before + 1) << "backward reuses the entry";
  // scale 0 means 1/sqrt(D): the same plan as the explicit value.
  AttentionShape implicit{1, 2, 6, 4}, explicitScale{1, 2, 6, 4, 0.5f};
  std::vector<float> q4(implicit.qkvSize()), out4(implicit.qkvSize());
  attentionForward(out4.data(), scratch.data(), q4.data(), q4.data(), q4.data(),
                   mask.data(), implicit);
  attentionForward(out4.data(), scratch.data(), q4.data(), q4.data(), q4.data(),
                   mask.data(), explicitScale);
  EXPECT_EQ(attentionCacheSize(), before + 2);
}

TEST(AttentionShape, DefaultScaleIsInverseSqrtHeadDim) {
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16}.effectiveScale()), 0.25f);
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16, 0.5f}.effectiveScale()), 0.5f);
}

} // namespace
} // namespace giga::kernels::test
