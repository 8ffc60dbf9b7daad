//===- WeightStoreTest.cpp - init, gradients and the optimizer step -------===//

#include "StoreTestSupport.h"

#include <cmath>

namespace giga::store::test {
namespace {

TEST(WeightStoreInit, NormalHasTheRequestedMeanAndStd) {
  artifact::Artifact a;
  a.params.push_back(param("big", {512, 1024}, "normal", 0.5));
  WeightStore store(a, {});
  store.initialize(1234);
  const float *w = store.weights(0, 0);
  int64_t n = a.params[0].elements();
  // Even elements come from Box-Muller's cosine, odd from its sine: check
  // both halves, so a broken pairing shows.
  for (int parity = 0; parity < 2; ++parity) {
    double sum = 0, sumSq = 0;
    int64_t withinOneStd = 0, count = 0;
    for (int64_t i = parity; i < n; i += 2) {
      sum += w[i];
      sumSq += double(w[i]) * w[i];
      withinOneStd += std::fabs(w[i]) < 0.5;
      ++count;
    }
    double mean = sum / count;
    double std = std::sqrt(sumSq / count - mean * mean);
    // Standard errors for n = 262144: mean 0.5/512 ~ 1e-3, std 7e-4,
    // fraction within 1 sigma 9e-4. Tolerances are ~5 standard errors.
    EXPECT_NEAR(mean, 0.0, 5e-3) << "parity " << parity;
    EXPECT_NEAR(std, 0.5, 3.5e-3) << "parity " << parity;
    EXPECT_NEAR(double(withinOneStd) / count, 0.682689, 4.5e-3)
        << "parity " << parity;
  }
}

TEST(WeightStoreInit, ZerosAndOnesAreExactAndStateStartsAtZero) {
  artifact::Artifact a = smallModel(2);
  WeightStore store(a, {});
  store.initialize(7);
  for (int64_t l = 0; l < 2; ++l) {
    for (float v : copyOf(store.weights(2, l), 12))
      EXPECT_EQ(v, 0.0f);
    for (float v : copyOf(store.weights(3, l), 8))
      EXPECT_EQ(v, 1.0f);
    for (float v : copyOf(store.grad(1, l), 96))
      EXPECT_EQ(v, 0.0f);
  }
  for (float v : copyOf(store.weights(4, 0), 8))
    EXPECT_EQ(v, 1.0f);
}

TEST(WeightStoreInit, DeterministicPerSeedAndName) {
  artifact::Artifact a = smallModel(3);
  WeightStore first(a, {}), second(a, {}), other(a, {});
  first.initialize(42);
  second.initialize(42);
  other.initialize(43);
  for (int32_t p : {0, 1})
    for (int64_t l = 0; l < a.params[p].layers; ++l) {
      int64_t n = a.params[p].elements();
      EXPECT_EQ(copyOf(first.weights(p, l), n),
                copyOf(second.weights(p, l), n));
      EXPECT_NE(copyOf(first.weights(p, l), n), copyOf(other.weights(p, l), n));
    }
  // Layers of a group differ from one another.
  EXPECT_NE(copyOf(first.weights(1, 0), 96), copyOf(first.weights(1, 1), 96));
}

TEST(WeightStoreInit, PinnedValuesAcrossRunsAndBuilds) {
  // The generator is part of the checkpoint story: a run started with the
  // same seed must get the same weights in any later build. These are the
  // values of splitmix64-hashed counters through Box-Muller (docs/store.md).
  artifact::Artifact a;
  a.params.push_back(param("wte.weight", {4}, "normal", 1.0));
  WeightStore store(a, {});
  store.initialize(1);
  const float *w = store.weights(0, 0);
  const float expected[4] = {1.58277965f, -0.883838415f, 0.773582458f,
                             -0.761189997f};
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(w[i], expected[i], 1e-6) << i;
}

TEST(WeightStoreInit, ATensorDoesNotDependOnOtherTensors) {
  artifact::Artifact a = smallModel(3);
  // Other tensors first, a different depth, a different order.
  artifact::Artifact b;
  b.params.push_back(param("extra", {100}, "normal", 1.0));
  b.params.push_back(param("ln.weight", {8}, "ones", 0, 0, "h", 5));
  b.params.push_back(param("mlp.weight", {8, 12}, "normal", 0.02, 0.1, "h", 5));
  b.params.push_back(param("wte.weight", {17, 8}, "normal", 0.02, 0.1));
  WeightStore sa(a, {}), sb(b, {});
  sa.initialize(9);
  sb.initialize(9);
  EXPECT_EQ(copyOf(sa.weights(0, 0), 136), copyOf(sb.weights(3, 0), 136));
  for (int64_t l = 0; l < 3; ++l)
    EXPECT_EQ(copyOf(sa.weights(1, l), 96), copyOf(sb.weights(2, l), 96));
}

TEST(WeightStoreInit, RejectsUnknownInitAndOptimizer) {
  artifact::Artifact a = smallModel();
  a.params[0].init = "uniform";
  expectStoreError([&] { WeightStore store(a, {}); },
                   {"wte.weight", "uniform"});
  artifact::Artifact b = smallModel();
  b.optimizer.kind = "lion";
  expectStoreError([&] { WeightStore store(b, {}); }, {"lion"});
}

TEST(WeightStoreGrads, AccumulateAddsAndZeroClears) {
  artifact::Artifact a = smallModel(2);
  WeightStore store(a, {});
  store.initialize(1);
  std::vector<float> g1 = fakeGrad(96, 1), g2 = fakeGrad(96, 2);
  store.accumulateGrad(1, 1, g1.data());
  store.accumulateGrad(1, 1, g2.data());
  const float *g = store.grad(1, 1);
  for (int i = 0; i < 96; ++i)
    EXPECT_EQ(g[i], g1[i] + g2[i]) << i;
  for (float v : copyOf(store.grad(1, 0), 96))
    EXPECT_EQ(v, 0.0f); // the other layer untouched
  store.zeroGrads();
  for (float v : copyOf(store.grad(1, 1), 96))
    EXPECT_EQ(v, 0.0f);
}

TEST(WeightStoreGrads, OutOfRangeIndicesAreErrors) {
  artifact::Artifact a = smallModel(2);
  WeightStore store(a, {});
  expectStoreError([&] { store.weights(5, 0); }, {"parameter 5"});
  expectStoreError([&] { store.weights(1, 2); }, {"mlp.weight", "layer 2"});
  expectStoreError([&] { store.applyUpdate(0, 1.0); }, {"step"});
}

/// torch.optim.AdamW and clip_grad_norm_, written out in double.
struct Reference {
  std::vector<std::vector<double>> p, m, v;
  double lr, beta1, beta2, eps, maxNorm;
  std::vector<double> decay;

  /// grads already scaled by 1 / micro-batches; returns the norm.
  double step(int step, const std::vector<std::vector<double>> &grads) {
    double sumSq = 0;
    for (const auto &g : grads)
      for (double x : g)
        sumSq += x * x;
    double norm = std::sqrt(sumSq);
    double clip = std::min(1.0, maxNorm / (norm + 1e-6));
    double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
    for (size_t t = 0; t < p.size(); ++t)
      for (size_t i = 0; i < p[t].size(); ++i) {
        double g = grads[t][i] * clip;
        p[t][i] *= 1 - lr * decay[t];
        m[t][i] = beta1 * m[t][i] + (1 - beta1) * g;
        v[t][i] = beta2 * v[t][i] + (1 - beta2) * g * g;
        p[t][i] -= lr / bc1 * m[t][i] / (std::sqrt(v[t][i] / bc2) + eps);
      }
    return norm;
  }
};

TEST(WeightStoreUpdate, AdamWWithClipMatchesAHandComputedStep) {
  artifact::Artifact a;
  a.params.push_back(param("w", {2, 2}, "normal", 0.02, 0.1));
  a.params.push_back(param("b", {3}, "zeros", 0, 0, "h", 2));
  a.optimizer.kind = "adamw";
  a.optimizer.learningRate = 0.1;
  a.optimizer.minLrRatio = 1.0; // a constant rate after warmup
  a.optimizer.warmupSteps = 0;
  a.optimizer.beta1 = 0.9;
  a.optimizer.beta2 = 0.95;
  a.optimizer.epsilon = 1e-8;
  a.optimizer.maxGradientNorm = 1.0;
  WeightStore store(a, {});
  store.initialize(3);
  const float w0[4] = {1.0f, -2.0f, 0.5f, 3.0f};
  std::copy(w0, w0 + 4, store.weights(0, 0));
  const float b0[3] = {0.1f, 0.2f, 0.3f};
  std::copy(b0, b0 + 3, store.weights(1, 0));

  Reference ref;
  ref.p = {{1, -2, 0.5, 3}, {0.1f, 0.2f, 0.3f}, {0, 0, 0}};
  ref.m = ref.v = {{0, 0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  ref.lr = 0.1;
  ref.beta1 = 0.9;
  ref.beta2 = 0.95;
  ref.eps = 1e-8;
  ref.maxNorm = 1.0;
  ref.decay = {0.1, 0, 0};

  // Two micro-batches per step (gradScale 0.5). Step 1's gradients have
  // norm ~5 and are clipped; step 2's have norm ~0.05 and are not.
  const std::vector<std::vector<std::vector<float>>> micro = {
      {{2, -4, 6, 8}, {1, 0, -1}, {0.5f, 0.5f, 0.5f}},
      {{0.02f, -0.04f, 0.01f, 0.03f}, {0.01f, 0, -0.01f}, {0, 0.02f, 0}}};
  for (int step = 1; step <= 2; ++step) {
    const auto &g = micro[step - 1];
    std::vector<std::vector<double>> scaled(3);
    for (int rep = 0; rep < 2; ++rep) {
      store.accumulateGrad(0, 0, g[0].data());
      store.accumulateGrad(1, 0, g[1].data());
      store.accumulateGrad(1, 1, g[2].data());
    }
    for (int t = 0; t < 3; ++t)
      for (float x : g[t])
        scaled[t].push_back(double(x + x) * 0.5);
    double norm = ref.step(step, scaled);
    if (step == 1) // Adam's first step is lr * sign(g), after the decay
      EXPECT_NEAR(ref.p[0][0], 1.0 * (1 - 0.1 * 0.1) - 0.1, 1e-6);
    UpdateStats stats = store.applyUpdate(step, 0.5);
    EXPECT_NEAR(stats.gradNorm, norm, 1e-6 * norm) << "step " << step;
    EXPECT_DOUBLE_EQ(stats.learningRate, 0.1);
    if (step == 1)
      EXPECT_NEAR(stats.clipScale, 1.0 / (norm + 1e-6), 1e-6);
    else
      EXPECT_EQ(stats.clipScale, 1.0);
    const float *w = store.weights(0, 0);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(w[i], ref.p[0][i], 2e-6) << "w[" << i << "] step " << step;
    for (int l = 0; l < 2; ++l) {
      const float *b = store.weights(1, l);
      for (int i = 0; i < 3; ++i)
        EXPECT_NEAR(b[i], ref.p[1 + l][i], 2e-6)
            << "h." << l << ".b[" << i << "] step " << step;
    }
    for (float x : copyOf(store.grad(0, 0), 4))
      EXPECT_EQ(x, 0.0f) << "gradients are zeroed after the update";
  }
}

TEST(WeightStoreUpdate, SgdWithMomentumAndWarmup) {
  artifact::Artifact a;
  a.params.push_back(param("w", {3}, "ones", 0, 0.5));
  a.optimizer.kind = "sgd";
  a.optimizer.momentum = 0.9;
  a.optimizer.learningRate = 0.1;
  a.optimizer.warmupSteps = 4;
  a.optimizer.decaySteps = 10;
  a.optimizer.maxGradientNorm = 100.0;
  WeightStore store(a, {});
  store.initialize(0);
  std::vector<double> p = {1, 1, 1}, buf = {0, 0, 0};
  const float g[3] = {0.5f, -1.0f, 2.0f};
  for (int step = 1; step <= 3; ++step) {
    store.accumulateGrad(0, 0, g);
    UpdateStats stats = store.applyUpdate(step, 1.0);
    double lr = 0.1 * step / 4; // warmup
    EXPECT_NEAR(stats.learningRate, lr, 1e-15);
    EXPECT_EQ(stats.clipScale, 1.0);
    for (int i = 0; i < 3; ++i) {
      double gi = g[i] + 0.5 * p[i]; // torch.optim.SGD's weight_decay
      buf[i] = 0.9 * buf[i] + gi;
      p[i] -= lr * buf[i];
    }
    const float *w = store.weights(0, 0);
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(w[i], p[i], 1e-6) << i << " step " << step;
  }
}

} // namespace
} // namespace giga::store::test
