//===- AttentionTest.cpp - softmax and causal attention -------------------===//

#include "runtime/kernels/Attention.h"
#include "GradCheck.h"

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
};

class Attention : public ::testing::TestWithParam<AttentionCase> {
protected:
  AttentionShape shape() const {
    AttentionCase c = GetParam();
    return AttentionShape{c.batch, c.heads, c.seqLen, c.headDim, c.scale};
  }
};

TEST_P(Attention, CausalForwardMatchesReference) {
  AttentionShape s = shape();
  int64_t heads = s.batch * s.heads, t = s.seqLen;
  std::vector<float> q = randomFloats(s.qkvSize(), 1);
  std::vector<float> k = randomFloats(s.qkvSize(), 2);
  std::vector<float> v = randomFloats(s.qkvSize(), 3);
  std::vector<float> mask(t * t), out(s.qkvSize()), probs(s.probsSize());
  fillCausalMask(mask.data(), t);
  attentionForward(out.data(), probs.data(), q.data(), k.data(), v.data(),
                   mask.data(), s);

  std::vector<double> probsRef;
  std::vector<double> outRef =
      ref::attention(toDouble(q), toDouble(k), toDouble(v), mask, heads, t,
                     s.headDim, s.effectiveScale(), &probsRef);
  expectClose("out", out, outRef, 1e-5);
  expectClose("probs", probs, probsRef, 1e-5);
  // Causality: nothing attends to the future, and position 0 sees only
  // itself, so out[0] = v[0].
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = i + 1; j < t; ++j)
        ASSERT_EQ(probs[(h * t + i) * t + j], 0.0f);
  for (int64_t l = 0; l < s.headDim; ++l)
    EXPECT_NEAR(out[l], v[l], 1e-6);
}

TEST_P(Attention, GradientsMatchFiniteDifferences) {
  AttentionShape s = shape();
  int64_t heads = s.batch * s.heads, t = s.seqLen, d = s.headDim;
  std::vector<float> q = randomFloats(s.qkvSize(), 4);
  std::vector<float> k = randomFloats(s.qkvSize(), 5);
  std::vector<float> v = randomFloats(s.qkvSize(), 6);
  std::vector<float> mask(t * t), out(s.qkvSize()), probs(s.probsSize());
  std::vector<float> scratch(s.probsSize());
  fillCausalMask(mask.data(), t);
  attentionForward(out.data(), probs.data(), q.data(), k.data(), v.data(),
                   mask.data(), s);

  std::vector<float> dout = randomFloats(s.qkvSize(), 7);
  size_t n = q.size();
  auto grads = runBackward({n, n, n}, [&](auto &g, bool acc) {
    attentionBackward(g[0].data(), g[1].data(), g[2].data(), scratch.data(),
                      dout.data(), q.data(), k.data(), v.data(), probs.data(),
                      s, acc);
  });

  std::vector<double> doutD = toDouble(dout), qD = toDouble(q),
                      kD = toDouble(k), vD = toDouble(v);
  double scale = s.effectiveScale();
  auto lossQ = [&](const std::vector<double> &x) {
    return dot(doutD, ref::attention(x, kD, vD, mask, heads, t, d, scale));
  };
  auto lossK = [&](const std::vector<double> &x) {
    return dot(doutD, ref::attention(qD, x, vD, mask, heads, t, d, scale));
  };
  auto lossV = [&](const std::vector<double> &x) {
    return dot(doutD, ref::attention(qD, kD, x, mask, heads, t, d, scale));
  };
  expectClose("dq", grads[0], numericGradient(lossQ, qD), kGradTolerance);
  expectClose("dk", grads[1], numericGradient(lossK, kD), kGradTolerance);
  expectClose("dv", grads[2], numericGradient(lossV, vD), kGradTolerance);
}

// Odd T with gigaGPT's head size, an even case, and an explicit scale.
INSTANTIATE_TEST_SUITE_P(Kernels, Attention,
                         ::testing::Values(AttentionCase{1, 2, 17, 16, 0.0f},
                                           AttentionCase{2, 2, 8, 8, 0.0f},
                                           AttentionCase{1, 3, 5, 4, 0.7f}));

// The plan runs the operations the free functions ran before they were built
// on it (and the executor ran with its own plans): matmul() with these
// shapes, the mask added, softmax in place. Same shapes, same oneDNN
// primitives, same order: the same bits.
void attentionAsBefore(float *out, float *probs, const float *q, const float *k,
                       const float *v, const float *mask,
                       const AttentionShape &shape) {
  int64_t heads = shape.batch * shape.heads, t = shape.seqLen,
          d = shape.headDim;
  MatmulShape scores{heads, t, t, d};
  scores.transB = true;
  scores.alpha = shape.effectiveScale();
  matmul(scores, q, k, probs);
  for (int64_t h = 0; h < heads; ++h) {
    float *p = probs + h * t * t;
    for (int64_t i = 0; i < t * t; ++i)
      p[i] += mask[i];
    softmaxForward(p, p, t, t);
  }
  matmul(MatmulShape{heads, t, d, t}, probs, v, out);
}

void attentionBackwardAsBefore(float *dq, float *dk, float *dv, float *scratch,
                               const float *dout, const float *q,
                               const float *k, const float *v,
                               const float *probs, const AttentionShape &shape,
                               bool accumulate) {
  int64_t heads = shape.batch * shape.heads, t = shape.seqLen,
          d = shape.headDim;
  MatmulShape dvShape{heads, t, d, t};
  dvShape.transA = true;
  dvShape.accumulate = accumulate;
  matmul(dvShape, probs, dout, dv);
  MatmulShape dpShape{heads, t, t, d};
  dpShape.transB = true;
  matmul(dpShape, dout, v, scratch);
  softmaxBackward(scratch, probs, scratch, heads * t, t, /*accumulate=*/false);
  MatmulShape dqShape{heads, t, d, t};
  dqShape.alpha = shape.effectiveScale();
  dqShape.accumulate = accumulate;
  matmul(dqShape, scratch, k, dq);
  MatmulShape dkShape = dqShape;
  dkShape.transA = true;
  matmul(dkShape, scratch, q, dk);
}

TEST_P(Attention, PlanEqualsFreeFunctionsAndFormerCodeBitForBit) {
  AttentionShape s = shape();
  int64_t t = s.seqLen;
  size_t n = s.qkvSize(), np = s.probsSize();
  std::vector<float> q = randomFloats(n, 8), k = randomFloats(n, 9),
                     v = randomFloats(n, 10), dout = randomFloats(n, 11);
  std::vector<float> mask(t * t);
  fillCausalMask(mask.data(), t);
  AttentionPlan plan(s, /*withBackward=*/true);
  ASSERT_TRUE(plan.hasBackward());

  std::vector<float> out(n), probs(np), outFree(n), probsFree(np), outBefore(n),
      probsBefore(np), probsOnly(np);
  plan.forward(out.data(), probs.data(), q.data(), k.data(), v.data(),
               mask.data());
  attentionForward(outFree.data(), probsFree.data(), q.data(), k.data(),
                   v.data(), mask.data(), s);
  attentionAsBefore(outBefore.data(), probsBefore.data(), q.data(), k.data(),
                    v.data(), mask.data(), s);
  plan.probabilities(probsOnly.data(), q.data(), k.data(), mask.data());
  EXPECT_EQ(out, outFree);
  EXPECT_EQ(probs, probsFree);
  EXPECT_EQ(out, outBefore);
  EXPECT_EQ(probs, probsBefore);
  EXPECT_EQ(probsOnly, probs);

  for (bool accumulate : {false, true}) {
    SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
    // Accumulating adds onto these; overwriting must not read them.
    float fill = accumulate ? 0.25f : std::numeric_limits<float>::quiet_NaN();
    std::vector<std::vector<float>> grads(9, std::vector<float>(n, fill));
    std::vector<float> scratch(np);
    plan.backward(grads[0].data(), grads[1].data(), grads[2].data(),
                  scratch.data(), dout.data(), q.data(), k.data(), v.data(),
                  probs.data(), accumulate);
    attentionBackward(grads[3].data(), grads[4].data(), grads[5].data(),
                      scratch.data(), dout.data(), q.data(), k.data(), v.data(),
                      probs.data(), s, accumulate);
    attentionBackwardAsBefore(grads[6].data(), grads[7].data(), grads[8].data(),
                              scratch.data(), dout.data(), q.data(), k.data(),
                              v.data(), probs.data(), s, accumulate);
    for (int g = 0; g < 3; ++g) {
      EXPECT_EQ(grads[g], grads[g + 3]) << "gradient " << g << " (free)";
      EXPECT_EQ(grads[g], grads[g + 6]) << "gradient " << g << " (before)";
      for (float x : grads[g])
        ASSERT_FALSE(std::isnan(x)) << "gradient " << g;
    }
  }
}

TEST(AttentionPlan, BackwardNeedsBackwardPlans) {
  AttentionShape s{1, 1, 3, 2};
  AttentionPlan plan(s);
  EXPECT_FALSE(plan.hasBackward());
  std::vector<float> x(s.probsSize() + s.qkvSize());
  EXPECT_THROW(plan.backward(x.data(), x.data(), x.data(), x.data(), x.data(),
                             x.data(), x.data(), x.data(), x.data(), false),
               std::logic_error);
}

TEST(AttentionPlan, FreeFunctionsCacheOnePlanPerShape) {
  // A shape no other test uses, so the counts are this test's.
  AttentionShape s{1, 2, 6, 3, 0.3f};
  size_t n = s.qkvSize(), np = s.probsSize();
  std::vector<float> q = randomFloats(n, 12), out(n), probs(np), mask(36),
                     scratch(np), dq(n), dk(n), dv(n);
  fillCausalMask(mask.data(), 6);
  size_t before = attentionCacheSize();
  attentionForward(out.data(), probs.data(), q.data(), q.data(), q.data(),
                   mask.data(), s);
  attentionForward(out.data(), probs.data(), q.data(), q.data(), q.data(),
                   mask.data(), s);
  EXPECT_EQ(attentionCacheSize(), before + 1);
  attentionBackward(dq.data(), dk.data(), dv.data(), scratch.data(), q.data(),
                    q.data(), q.data(), q.data(), probs.data(), s, false);
  EXPECT_EQ(attentionCacheSize(), before + 1) << "backward reuses the entry";
  // scale 0 means 1/sqrt(D): the same plan as the explicit value.
  AttentionShape implicit{1, 2, 6, 4}, explicitScale{1, 2, 6, 4, 0.5f};
  std::vector<float> q4(implicit.qkvSize()), out4(implicit.qkvSize());
  attentionForward(out4.data(), probs.data(), q4.data(), q4.data(), q4.data(),
                   mask.data(), implicit);
  attentionForward(out4.data(), probs.data(), q4.data(), q4.data(), q4.data(),
                   mask.data(), explicitScale);
  EXPECT_EQ(attentionCacheSize(), before + 2);
}

TEST(AttentionShape, DefaultScaleIsInverseSqrtHeadDim) {
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16}.effectiveScale()), 0.25f);
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16, 0.5f}.effectiveScale()), 0.5f);
}

} // namespace
} // namespace giga::kernels::test
