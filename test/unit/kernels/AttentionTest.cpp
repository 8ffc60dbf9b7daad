//===- AttentionTest.cpp - softmax and causal attention -------------------===//

#include "runtime/kernels/Attention.h"
#include "GradCheck.h"

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

TEST(AttentionShape, DefaultScaleIsInverseSqrtHeadDim) {
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16}.effectiveScale()), 0.25f);
  EXPECT_FLOAT_EQ((AttentionShape{1, 1, 4, 16, 0.5f}.effectiveScale()), 0.5f);
}

} // namespace
} // namespace giga::kernels::test
