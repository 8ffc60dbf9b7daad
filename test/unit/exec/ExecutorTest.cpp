//===- ExecutorTest.cpp - a whole training step through the executor ------===//
//
// A 2-layer residual MLP with a tied embedding, written by hand as an
// artifact (forward, loss and backward kernels, the block kernel run once per
// layer, backward in reverse), run against the real weight store. Checked
// against a double-precision reference and by finite differences through
// the whole executor.
//
//===----------------------------------------------------------------------===//

#include "ArtifactBuilder.h"

#include "runtime/exec/Executor.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/store/WeightStore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace giga::exec::test {
namespace {

constexpr int64_t kB = 2, kT = 3, kV = 11, kC = 8, kLayers = 2;

struct Mlp {
  artifact::Artifact artifact;
  int32_t wte = -1, w = -1, b = -1; // params
  int32_t wBuf = -1;
};

/// embedding -> L x {matmul, bias_add, gelu, add} -> matmul (tied) ->
/// cross_entropy, and the backward kernels. With `reuseWeightBytes`, the
/// block's weight buffer shares its bytes with an activation written later
/// in the kernel, so the executor must copy the weights into the arena
/// instead of reading the store's memory in place.
Mlp buildMlp(bool reuseWeightBytes) {
  ArtifactBuilder ab(kB, kT, kV);
  Mlp m;
  m.wte = ab.param("wte", {kV, kC});
  m.w = ab.param("w", {kC, kC}, "h", kLayers);
  m.b = ab.param("b", {kC}, "h", kLayers);

  int32_t wteBuf = ab.f32("wte_buf", {kV, kC});
  int32_t x = ab.f32("x", {kB, kT, kC});
  int32_t xs = ab.f32("xs", {kB, kT, kC}, kLayers);
  int32_t xsRows = ab.alias("xs_rows", xs, {kB * kT, kC}, kLayers);
  int32_t wBuf = ab.f32("w_buf", {kC, kC});
  int32_t bBuf = ab.f32("b_buf", {kC});
  int32_t h1 = ab.f32("h1", {kB, kT, kC});
  int32_t h2s = ab.f32("h2s", {kB, kT, kC}, kLayers);
  int32_t g = reuseWeightBytes ? ab.alias("g", wBuf, {kB, kT, kC})
                               : ab.f32("g", {kB, kT, kC});
  if (reuseWeightBytes) // g is larger than w_buf: keep the arena big enough
    ab.f32("pad", {kB, kT, kC});
  int32_t xn = ab.f32("xn", {kB, kT, kC});
  int32_t logits = ab.f32("logits", {kB, kT, kV});
  int32_t dloss = ab.f32("dloss", {});
  int32_t dlogits = ab.f32("dlogits", {kB, kT, kV});
  int32_t dlogitsRows = ab.alias("dlogits_rows", dlogits, {kB * kT, kV});
  int32_t xRows = ab.alias("x_rows", x, {kB * kT, kC});
  int32_t dwte = ab.f32("dwte", {kV, kC});
  int32_t dx = ab.f32("dx", {kB, kT, kC});
  int32_t dh2 = ab.f32("dh2", {kB, kT, kC});
  int32_t dh2Rows = ab.alias("dh2_rows", dh2, {kB * kT, kC});
  int32_t db = ab.f32("db", {kC});
  int32_t dw = ab.f32("dw", {kC, kC});
  int32_t dxa = ab.f32("dxa", {kB, kT, kC});
  int32_t dxn = ab.f32("dxn", {kB, kT, kC});
  int32_t dwteE = ab.f32("dwte_embed", {kV, kC});
  int32_t tokens = ab.tokens, targets = ab.targets, loss = ab.loss;

  {
    artifact::Kernel &k = ab.kernel("embed.fwd");
    k.streamIn.push_back({m.wte, W(wteBuf)});
    ab.op(k, "embedding", {W(wteBuf), W(tokens)}, {W(x)});
  }
  {
    artifact::Kernel &k = ab.kernel("h.fwd", "h", kLayers);
    k.streamIn.push_back({m.w, W(wBuf)});
    k.streamIn.push_back({m.b, W(bBuf)});
    ab.op(k, "copy", {W(x)}, {L(xs)});
    ab.op(k, "matmul", {W(x), W(wBuf)}, {W(h1)}, {{"transpose_rhs", true}});
    ab.op(k, "bias_add", {W(h1), W(bBuf)}, {L(h2s)});
    ab.op(k, "gelu", {L(h2s)}, {W(g)});
    ab.op(k, "add", {W(x), W(g)}, {W(xn)});
    k.carry.push_back({x, xn});
  }
  {
    artifact::Kernel &k = ab.kernel("head.fwd");
    k.streamIn.push_back({m.wte, W(wteBuf)});
    ab.op(k, "matmul", {W(x), W(wteBuf)}, {W(logits)},
          {{"transpose_rhs", true}, {"transpose_lhs", false}});
    ab.op(k, "cross_entropy", {W(logits), W(targets)}, {W(loss)});
  }
  {
    artifact::Kernel &k = ab.kernel("head.bwd", "", 1, /*backward=*/true);
    k.streamIn.push_back({m.wte, W(wteBuf)});
    ab.op(k, "fill", {}, {W(dloss)}, {{"value", 1.0}});
    ab.op(k, "cross_entropy_grad", {W(dloss), W(logits), W(targets)},
          {W(dlogits)});
    ab.op(k, "matmul", {W(dlogits), W(wteBuf)}, {W(dx)});
    ab.op(k, "matmul", {W(dlogitsRows), W(xRows)}, {W(dwte)},
          {{"transpose_lhs", true}});
    k.streamOut.push_back({W(dwte), m.wte});
  }
  {
    artifact::Kernel &k = ab.kernel("h.bwd", "h", kLayers, true, true);
    k.streamIn.push_back({m.w, W(wBuf)});
    ab.op(k, "gelu_grad", {W(dx), L(h2s)}, {W(dh2)});
    ab.op(k, "reduce_sum", {W(dh2)}, {W(db)});
    ab.op(k, "matmul", {W(dh2Rows), L(xsRows)}, {W(dw)},
          {{"transpose_lhs", true}});
    ab.op(k, "matmul", {W(dh2), W(wBuf)}, {W(dxa)});
    ab.op(k, "add", {W(dx), W(dxa)}, {W(dxn)});
    k.streamOut.push_back({W(dw), m.w});
    k.streamOut.push_back({W(db), m.b});
    k.carry.push_back({dx, dxn});
  }
  {
    artifact::Kernel &k = ab.kernel("embed.bwd", "", 1, true);
    ab.op(k, "embedding_grad", {W(dx), W(tokens)}, {W(dwteE)});
    k.streamOut.push_back({W(dwteE), m.wte});
  }
  artifact::reserveOpScratch(ab.a);
  m.artifact = ab.a;
  m.wBuf = wBuf;
  return m;
}

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double geluGrad(double x) {
  return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) +
         x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}

struct Reference {
  double loss = 0;
  std::vector<double> dwte;
  std::vector<std::vector<double>> dw, db;
};

/// The same model in double, forward and backward written out.
Reference reference(store::WeightStore &store, const Mlp &m,
                    const std::vector<int32_t> &tok,
                    const std::vector<int32_t> &tgt) {
  const int64_t n = kB * kT;
  std::vector<double> wte(store.weights(m.wte, 0),
                          store.weights(m.wte, 0) + kV * kC);
  std::vector<std::vector<double>> W(kLayers), Bv(kLayers);
  for (int64_t l = 0; l < kLayers; ++l) {
    W[l].assign(store.weights(m.w, l), store.weights(m.w, l) + kC * kC);
    Bv[l].assign(store.weights(m.b, l), store.weights(m.b, l) + kC);
  }
  std::vector<std::vector<double>> xs(kLayers + 1, std::vector<double>(n * kC));
  std::vector<std::vector<double>> hs(kLayers, std::vector<double>(n * kC));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < kC; ++c)
      xs[0][i * kC + c] = wte[tok[i] * kC + c];
  for (int64_t l = 0; l < kLayers; ++l)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < kC; ++o) {
        double h = Bv[l][o];
        for (int64_t c = 0; c < kC; ++c)
          h += xs[l][i * kC + c] * W[l][o * kC + c];
        hs[l][i * kC + o] = h;
        xs[l + 1][i * kC + o] = xs[l][i * kC + o] + gelu(h);
      }
  Reference r;
  std::vector<double> dlogits(n * kV);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> z(kV);
    double mx = -1e300;
    for (int64_t v = 0; v < kV; ++v) {
      z[v] = 0;
      for (int64_t c = 0; c < kC; ++c)
        z[v] += xs[kLayers][i * kC + c] * wte[v * kC + c];
      mx = std::max(mx, z[v]);
    }
    double s = 0;
    for (double zv : z)
      s += std::exp(zv - mx);
    double lse = mx + std::log(s);
    r.loss += (lse - z[tgt[i]]) / n;
    for (int64_t v = 0; v < kV; ++v)
      dlogits[i * kV + v] =
          (std::exp(z[v] - lse) - (v == tgt[i] ? 1.0 : 0.0)) / n;
  }
  r.dwte.assign(kV * kC, 0.0);
  std::vector<double> dx(n * kC, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t v = 0; v < kV; ++v)
      for (int64_t c = 0; c < kC; ++c) {
        r.dwte[v * kC + c] += dlogits[i * kV + v] * xs[kLayers][i * kC + c];
        dx[i * kC + c] += dlogits[i * kV + v] * wte[v * kC + c];
      }
  r.dw.assign(kLayers, std::vector<double>(kC * kC, 0.0));
  r.db.assign(kLayers, std::vector<double>(kC, 0.0));
  for (int64_t l = kLayers - 1; l >= 0; --l) {
    std::vector<double> dh(n * kC), next = dx;
    for (int64_t i = 0; i < n * kC; ++i)
      dh[i] = dx[i] * geluGrad(hs[l][i]);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < kC; ++o) {
        r.db[l][o] += dh[i * kC + o];
        for (int64_t c = 0; c < kC; ++c) {
          r.dw[l][o * kC + c] += dh[i * kC + o] * xs[l][i * kC + c];
          next[i * kC + c] += dh[i * kC + o] * W[l][o * kC + c];
        }
      }
    dx = next;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < kC; ++c)
      r.dwte[tok[i] * kC + c] += dx[i * kC + c];
  return r;
}

double relativeError(const float *got, const std::vector<double> &want) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff += (got[i] - want[i]) * (got[i] - want[i]);
    norm += want[i] * want[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

const std::vector<int32_t> kTokens = {1, 4, 4, 10, 0, 7};
const std::vector<int32_t> kTargets = {4, 4, 10, 0, 7, 3};

class MlpTest : public ::testing::TestWithParam<bool> {};

TEST_P(MlpTest, LossAndGradientsMatchDoubleReference) {
  Mlp m = buildMlp(GetParam());
  store::WeightStore store(m.artifact, {});
  store.initialize(7);
  Executor exec(m.artifact, store);
  float loss = trainMicroBatch(exec, kTokens.data(), kTargets.data());
  Reference r = reference(store, m, kTokens, kTargets);
  EXPECT_NEAR(loss, r.loss, 1e-5 * std::abs(r.loss));
  EXPECT_LT(relativeError(store.grad(m.wte, 0), r.dwte), 1e-5);
  for (int64_t l = 0; l < kLayers; ++l) {
    EXPECT_LT(relativeError(store.grad(m.w, l), r.dw[l]), 1e-5) << l;
    EXPECT_LT(relativeError(store.grad(m.b, l), r.db[l]), 1e-5) << l;
  }
  // Gradients accumulate over micro-batches.
  EXPECT_FLOAT_EQ(trainMicroBatch(exec, kTokens.data(), kTargets.data()), loss);
  std::vector<double> twice = r.dw[1];
  for (double &value : twice)
    value *= 2;
  EXPECT_LT(relativeError(store.grad(m.w, 1), twice), 1e-5);
}

TEST_P(MlpTest, EvaluateRunsForwardOnly) {
  Mlp m = buildMlp(GetParam());
  store::WeightStore store(m.artifact, {});
  store.initialize(3);
  Executor exec(m.artifact, store);
  float evalLoss = evalMicroBatch(exec, kTokens.data(), kTargets.data());
  for (int64_t i = 0; i < kV * kC; ++i)
    ASSERT_EQ(store.grad(m.wte, 0)[i], 0.0f);
  float loss = trainMicroBatch(exec, kTokens.data(), kTargets.data());
  EXPECT_EQ(evalLoss, loss);
  EXPECT_NE(store.grad(m.wte, 0)[kTokens[0] * kC], 0.0f);
}

// Central differences of the executor's own loss (fp32) for a few entries
// of every tensor, including the tied embedding and both layers.
TEST_P(MlpTest, FiniteDifferencesThroughTheExecutor) {
  Mlp m = buildMlp(GetParam());
  store::WeightStore store(m.artifact, {});
  store.initialize(11);
  Executor exec(m.artifact, store);
  trainMicroBatch(exec, kTokens.data(), kTargets.data());
  std::mt19937 rng(5);
  const float h = 3e-3f;
  int checked = 0;
  for (int32_t param : {m.wte, m.w, m.b})
    for (int64_t layer = 0; layer < m.artifact.params[param].layers; ++layer) {
      int64_t n = m.artifact.params[param].elements();
      for (int trial = 0; trial < 4; ++trial) {
        int64_t i = trial == 0 && param == m.wte ? kTokens[1] * kC + 2
                                                 : int64_t(rng() % n);
        float *w = store.weights(param, layer);
        float saved = w[i];
        w[i] = saved + h;
        double up = evalMicroBatch(exec, kTokens.data(), kTargets.data());
        w[i] = saved - h;
        double down = evalMicroBatch(exec, kTokens.data(), kTargets.data());
        w[i] = saved;
        double fd = (up - down) / (2 * h);
        double got = store.grad(param, layer)[i];
        EXPECT_NEAR(got, fd, 5e-4 + 1e-2 * std::abs(fd))
            << m.artifact.params[param].fullName(layer) << "[" << i << "]";
        ++checked;
      }
    }
  EXPECT_EQ(checked, 4 * 5);
}

TEST(Executor, WeightsReadInPlaceOrCopied) {
  // Exclusive weight buffers are bound to the store's memory (the arena
  // slot is never written); shared ones get the weights copied in.
  for (bool reuse : {false, true}) {
    Mlp m = buildMlp(reuse);
    store::WeightStore store(m.artifact, {});
    store.initialize(1);
    Executor exec(m.artifact, store);
    trainMicroBatch(exec, kTokens.data(), kTargets.data());
    const float *slot = static_cast<const float *>(exec.buffer(m.wBuf));
    bool zero = true;
    for (int64_t i = 0; i < kC * kC; ++i)
      zero = zero && slot[i] == 0.0f;
    EXPECT_EQ(zero, !reuse);
  }
}

TEST(Executor, Bf16CopiesOfTheWeightsGiveTheSameNumbers) {
  // A bound weight's matmul reads the store's bf16 copy instead of rounding
  // the weight itself: the same rounding, so the same bits.
  if (!kernels::hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16, AMX)";
  for (bool reuse : {false, true}) {
    Mlp m = buildMlp(reuse);
    store::WeightStore rounding(m.artifact, {}),
        copies(m.artifact, {"", 0, /*bf16Copies=*/true});
    std::vector<float> losses;
    for (store::WeightStore *store : {&rounding, &copies}) {
      store->initialize(5);
      Executor exec(m.artifact, *store, kernels::MatmulPrecision::Bf16);
      losses.push_back(trainMicroBatch(exec, kTokens.data(), kTargets.data()));
    }
    EXPECT_EQ(losses[0], losses[1]) << "reuse " << reuse;
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t i = 0; i < kC * kC; ++i)
        ASSERT_EQ(rounding.grad(m.w, l)[i], copies.grad(m.w, l)[i])
            << "reuse " << reuse << " layer " << l << " element " << i;
  }
}

TEST(Executor, OutOfRangeTokenIsAnError) {
  Mlp m = buildMlp(false);
  store::WeightStore store(m.artifact, {});
  store.initialize(1);
  Executor exec(m.artifact, store);
  std::vector<int32_t> bad = kTokens;
  bad[4] = 11;
  try {
    trainMicroBatch(exec, bad.data(), kTargets.data());
    FAIL() << "expected ExecError";
  } catch (const ExecError &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("train_step input 'tokens': 11 at position 4 is "
                        "outside [0, 11)"),
              std::string::npos)
        << what;
  }
  std::vector<int32_t> badTargets = kTargets;
  badTargets[0] = -3;
  EXPECT_THROW(evalMicroBatch(exec, kTokens.data(), badTargets.data()),
               ExecError);
  // The executor is still usable afterwards.
  EXPECT_TRUE(
      std::isfinite(evalMicroBatch(exec, kTokens.data(), kTargets.data())));
}

INSTANTIATE_TEST_SUITE_P(Weights, MlpTest, ::testing::Values(false, true),
                         [](const auto &info) {
                           return info.param ? "copied" : "inPlace";
                         });

} // namespace
} // namespace giga::exec::test
