//===- OpTest.cpp - each artifact op through the executor -----------------===//
//
// One op per artifact: its f32 inputs are parameters streamed from the store,
// its i32 inputs the io tokens/targets, its outputs read back from the arena.
// Forward ops are compared with double-precision references; gradient ops
// with the vector-Jacobian product of that reference by central differences.
//
//===----------------------------------------------------------------------===//

#include "ArtifactBuilder.h"

#include "runtime/exec/Executor.h"
#include "runtime/store/WeightStore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

namespace giga::exec::test {
namespace {

using Values = std::vector<double>;

struct Input {
  Shape shape;
  Values values;
  bool ids = false;    // i32 (io tokens, then io targets)
  int32_t sameAs = -1; // reuse input sameAs's buffer (aliased operands)
};

int64_t count(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Values randomValues(int64_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, scale);
  Values v(n);
  for (double &x : v)
    x = static_cast<float>(dist(rng));
  return v;
}

/// Runs `name` once and returns its outputs.
std::vector<Values> runOp(const std::string &name, std::vector<Input> inputs,
                          std::vector<std::pair<DType, Shape>> outputs,
                          nlohmann::json attrs = nlohmann::json::object()) {
  Shape idShape = {1, 1};
  for (const Input &in : inputs)
    if (in.ids)
      idShape = in.shape;
  EXPECT_EQ(idShape.size(), 2u);
  ArtifactBuilder ab(idShape[0], idShape[1], 1000);
  artifact::Kernel k;
  k.name = "k";
  std::vector<Operand> ins, outs;
  std::vector<int32_t> idBuffers = {ab.tokens, ab.targets};
  std::vector<std::vector<int32_t>> ids;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Input &in = inputs[i];
    if (in.sameAs >= 0) {
      ins.push_back(ins[in.sameAs]);
    } else if (in.ids) {
      ins.push_back(W(idBuffers[ids.size()]));
      ids.emplace_back(in.values.begin(), in.values.end());
    } else {
      int32_t p = ab.param("p" + std::to_string(i), in.shape);
      int32_t b = ab.f32("in" + std::to_string(i), in.shape);
      k.streamIn.push_back({p, W(b)});
      ins.push_back(W(b));
    }
  }
  std::vector<int32_t> outBuffers;
  for (size_t i = 0; i < outputs.size(); ++i) {
    outBuffers.push_back(ab.buffer("out" + std::to_string(i), outputs[i].first,
                                   outputs[i].second));
    outs.push_back(W(outBuffers.back()));
  }
  k.ops.push_back({name, ins, outs, attrs});
  ab.a.kernels.push_back(k);
  ab.refreshEntryPoints();
  artifact::reserveOpScratch(ab.a);
  store::WeightStore store(ab.a, {});
  int32_t p = 0;
  for (const Input &in : inputs)
    if (!in.ids && in.sameAs < 0) {
      float *w = store.weights(p++, 0);
      for (size_t j = 0; j < in.values.size(); ++j)
        w[j] = static_cast<float>(in.values[j]);
    }
  while (ids.size() < 2)
    ids.emplace_back(count(idShape), 0);
  Executor exec(ab.a, store);
  trainMicroBatch(exec, ids[0].data(), ids[1].data());
  std::vector<Values> result;
  for (size_t i = 0; i < outputs.size(); ++i) {
    int64_t n = count(outputs[i].second);
    const void *data = exec.buffer(outBuffers[i]);
    Values v(n);
    for (int64_t j = 0; j < n; ++j)
      v[j] = outputs[i].first == DType::I32
                 ? static_cast<const int32_t *>(data)[j]
                 : static_cast<const float *>(data)[j];
    result.push_back(v);
  }
  return result;
}

void expectNear(const Values &got, const Values &want, double tolerance,
                const std::string &what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double w : want)
    scale = std::max(scale, std::abs(w));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tolerance * (1 + scale))
        << what << "[" << i << "]";
}

/// The VJP of `f` with respect to input `which`, by central differences.
Values vjp(const std::function<Values(const std::vector<Values> &)> &f,
           std::vector<Values> inputs, size_t which, const Values &grad) {
  Values result(inputs[which].size());
  const double h = 1e-6;
  for (size_t i = 0; i < result.size(); ++i) {
    double saved = inputs[which][i];
    inputs[which][i] = saved + h;
    Values up = f(inputs);
    inputs[which][i] = saved - h;
    Values down = f(inputs);
    inputs[which][i] = saved;
    double sum = 0;
    for (size_t j = 0; j < grad.size(); ++j)
      sum += (up[j] - down[j]) / (2 * h) * grad[j];
    result[i] = sum;
  }
  return result;
}

// --- references --------------------------------------------------------------

/// [.., M, K] x [.., K, N] (after transposes), rhs rank 2 shared.
Values refMatmul(const Values &a, const Shape &as, const Values &b,
                 const Shape &bs, bool ta, bool tb) {
  int64_t m = as[as.size() - 2], k = as.back();
  if (ta)
    std::swap(m, k);
  int64_t n = tb ? bs[bs.size() - 2] : bs.back();
  int64_t batch = count(as) / (m * k);
  bool shared = bs.size() == 2;
  Values c(batch * m * n, 0.0);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t q = 0; q < k; ++q) {
          double x = a[p * m * k + (ta ? q * m + i : i * k + q)];
          int64_t bo = shared ? 0 : p * k * n;
          double y = b[bo + (tb ? j * k + q : q * n + j)];
          s += x * y;
        }
        c[(p * m + i) * n + j] = s;
      }
  return c;
}

/// q [B, H, T, D] (shape s) over k, v [B, H, Tk, D]; mask [T, Tk].
Values refAttention(const std::vector<Values> &in, const Shape &s, double scale,
                    int64_t tk = 0) {
  const Values &q = in[0], &k = in[1], &v = in[2], &mask = in[3];
  int64_t bh = s[0] * s[1], t = s[2], d = s[3];
  if (tk == 0)
    tk = t;
  Values out(q.size(), 0.0);
  for (int64_t h = 0; h < bh; ++h)
    for (int64_t i = 0; i < t; ++i) {
      Values p(tk);
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < tk; ++j) {
        double sc = 0;
        for (int64_t e = 0; e < d; ++e)
          sc += q[(h * t + i) * d + e] * k[(h * tk + j) * d + e];
        p[j] = scale * sc + mask[i * tk + j];
        mx = std::max(mx, p[j]);
      }
      double sum = 0;
      for (double &x : p)
        sum += (x = std::exp(x - mx));
      for (int64_t j = 0; j < tk; ++j)
        for (int64_t e = 0; e < d; ++e)
          out[(h * t + i) * d + e] += p[j] / sum * v[(h * tk + j) * d + e];
    }
  return out;
}

Values refLayernorm(const std::vector<Values> &in, int64_t cols, double eps) {
  const Values &x = in[0], &w = in[1], &b = in[2];
  Values out(x.size());
  for (size_t r = 0; r < x.size() / cols; ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c)
      mean += x[r * cols + c] / cols;
    for (int64_t c = 0; c < cols; ++c)
      var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean) / cols;
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] =
          (x[r * cols + c] - mean) / std::sqrt(var + eps) * w[c] + b[c];
  }
  return out;
}

Values refSoftmax(const Values &x, const Shape &s, int64_t axis) {
  int64_t outer = 1, inner = 1, len = s[axis];
  for (int64_t i = 0; i < axis; ++i)
    outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i)
    inner *= s[i];
  Values y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < len; ++j)
        mx = std::max(mx, x[(o * len + j) * inner + i]);
      for (int64_t j = 0; j < len; ++j)
        sum += std::exp(x[(o * len + j) * inner + i] - mx);
      for (int64_t j = 0; j < len; ++j)
        y[(o * len + j) * inner + i] =
            std::exp(x[(o * len + j) * inner + i] - mx) / sum;
    }
  return y;
}

Values refTranspose(const Values &x, const Shape &s, const Shape &perm) {
  size_t r = s.size();
  Shape outShape(r), inStrides(r, 1);
  for (size_t i = r; i-- > 1;)
    inStrides[i - 1] = inStrides[i] * s[i];
  for (size_t i = 0; i < r; ++i)
    outShape[i] = s[perm[i]];
  Values y(x.size());
  Shape index(r, 0);
  for (size_t o = 0; o < y.size(); ++o) {
    int64_t offset = 0;
    for (size_t i = 0; i < r; ++i)
      offset += index[i] * inStrides[perm[i]];
    y[o] = x[offset];
    for (size_t i = r; i-- > 0;)
      if (++index[i] < outShape[i])
        break;
      else
        index[i] = 0;
  }
  return y;
}

// --- tests -------------------------------------------------------------------

TEST(Ops, MatmulForms) {
  struct Case {
    Shape a, b;
    bool ta, tb;
  };
  for (const Case &c : std::vector<Case>{
           {{2, 3, 4}, {5, 4}, false, true},   // linear layer, shared rhs
           {{2, 4, 3}, {4, 5}, true, false},   // transposed lhs, shared rhs
           {{2, 4, 3}, {2, 5, 4}, true, true}, // batched both, both flags
           {{3, 4}, {4, 2}, false, false},     // plain
           {{6, 4}, {6, 5}, true, false},      // dW = x^T dy
       }) {
    Values a = randomValues(count(c.a), 1), b = randomValues(count(c.b), 2);
    Values want = refMatmul(a, c.a, b, c.b, c.ta, c.tb);
    int64_t m = c.ta ? c.a[c.a.size() - 1] : c.a[c.a.size() - 2];
    int64_t n = c.tb ? c.b[c.b.size() - 2] : c.b.back();
    Shape out(c.a.begin(), c.a.end() - 2);
    out.push_back(m);
    out.push_back(n);
    auto got = runOp("matmul", {{c.a, a}, {c.b, b}}, {{DType::F32, out}},
                     {{"transpose_lhs", c.ta}, {"transpose_rhs", c.tb}});
    expectNear(got[0], want, 1e-5);
  }
}

TEST(Ops, MatmulWithAliasedOperands) {
  // x^T x with both operands the same buffer.
  Values x = randomValues(12, 3);
  auto got = runOp("matmul", {{{4, 3}, x}, {{4, 3}, {}, false, 0}},
                   {{DType::F32, {3, 3}}}, {{"transpose_lhs", true}});
  expectNear(got[0], refMatmul(x, {4, 3}, x, {4, 3}, true, false), 1e-5);
}

TEST(Ops, AddBiasAddReduceSum) {
  Values a = randomValues(24, 1), b = randomValues(12, 2),
         bias = randomValues(4, 3);
  Values want(24), wantBias(24), want4(4, 0.0), want34(12, 0.0);
  for (int i = 0; i < 24; ++i) {
    want[i] = a[i] + b[i % 12];
    wantBias[i] = a[i] + bias[i % 4];
    want4[i % 4] += a[i];
    want34[i % 12] += a[i];
  }
  expectNear(
      runOp("add", {{{2, 3, 4}, a}, {{3, 4}, b}}, {{DType::F32, {2, 3, 4}}})[0],
      want, 1e-6);
  expectNear(runOp("bias_add", {{{2, 3, 4}, a}, {{4}, bias}},
                   {{DType::F32, {2, 3, 4}}})[0],
             wantBias, 1e-6);
  expectNear(runOp("reduce_sum", {{{2, 3, 4}, a}}, {{DType::F32, {4}}})[0],
             want4, 1e-6);
  expectNear(runOp("reduce_sum", {{{2, 3, 4}, a}}, {{DType::F32, {3, 4}}})[0],
             want34, 1e-6);
}

TEST(Ops, Transposes) {
  struct Case {
    Shape shape, perm;
  };
  for (const Case &c : std::vector<Case>{{{2, 3, 4, 5}, {0, 2, 1, 3}},
                                         {{2, 3, 4}, {2, 0, 1}},
                                         {{3, 5}, {1, 0}},
                                         {{2, 3, 4, 5}, {0, 1, 3, 2}},
                                         {{2, 1, 3, 4}, {1, 0, 3, 2}},
                                         {{2, 3, 4}, {0, 1, 2}}}) {
    Values x = randomValues(count(c.shape), 4);
    Shape out;
    for (int64_t d : c.perm)
      out.push_back(c.shape[d]);
    auto got = runOp("transpose", {{c.shape, x}}, {{DType::F32, out}},
                     {{"permutation", c.perm}});
    expectNear(got[0], refTranspose(x, c.shape, c.perm), 0.0);
  }
}

TEST(Ops, SplitConcatCopy) {
  Values x = randomValues(2 * 6 * 2, 5);
  auto parts = runOp("split", {{{2, 6, 2}, x}},
                     {{DType::F32, {2, 2, 2}},
                      {DType::F32, {2, 2, 2}},
                      {DType::F32, {2, 2, 2}}},
                     {{"axis", 1}});
  for (int p = 0; p < 3; ++p)
    for (int o = 0; o < 2; ++o)
      for (int j = 0; j < 4; ++j)
        ASSERT_EQ(parts[p][o * 4 + j], x[o * 12 + p * 4 + j]);
  // Unequal parts join back along a negative axis.
  Values a = randomValues(2 * 3 * 1, 6), b = randomValues(2 * 3 * 2, 7);
  auto joined = runOp("concat", {{{2, 3, 1}, a}, {{2, 3, 2}, b}},
                      {{DType::F32, {2, 3, 3}}}, {{"axis", -1}});
  for (int r = 0; r < 6; ++r) {
    ASSERT_EQ(joined[0][r * 3], a[r]);
    ASSERT_EQ(joined[0][r * 3 + 1], b[r * 2]);
    ASSERT_EQ(joined[0][r * 3 + 2], b[r * 2 + 1]);
  }
  auto copied = runOp("copy", {{{2, 6}, b}}, {{DType::F32, {3, 4}}});
  expectNear(copied[0], b, 0.0);
}

TEST(Ops, Generators) {
  auto out = runOp("iota", {}, {{DType::I32, {5}}});
  EXPECT_EQ(out[0], (Values{0, 1, 2, 3, 4}));
  out = runOp("fill", {}, {{DType::F32, {2, 2}}}, {{"value", -1.5}});
  EXPECT_EQ(out[0], (Values{-1.5, -1.5, -1.5, -1.5}));
  out = runOp("causal_mask", {}, {{DType::F32, {3, 3}}});
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(out[0], (Values{0, -inf, -inf, 0, 0, -inf, 0, 0, 0}));
}

TEST(Ops, EmbeddingAndGrad) {
  Values table = randomValues(5 * 3, 8), ids = {4, 0, 4, 2},
         grad = randomValues(12, 9);
  auto out = runOp("embedding", {{{5, 3}, table}, {{2, 2}, ids, true}},
                   {{DType::F32, {2, 2, 3}}});
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      ASSERT_EQ(out[0][i * 3 + c], table[ids[i] * 3 + c]);
  auto dtable =
      runOp("embedding_grad", {{{2, 2, 3}, grad}, {{2, 2}, ids, true}},
            {{DType::F32, {5, 3}}});
  Values want(15, 0.0);
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      want[ids[i] * 3 + c] += grad[i * 3 + c];
  expectNear(dtable[0], want, 1e-6);
}

TEST(Ops, GeluAndGrad) {
  Values x = randomValues(10, 10, 2.0), g = randomValues(10, 11);
  for (bool tanhForm : {false, true}) {
    auto f = [&](const std::vector<Values> &in) {
      Values y(in[0].size());
      for (size_t i = 0; i < y.size(); ++i) {
        double v = in[0][i];
        y[i] = tanhForm ? 0.5 * v *
                              (1 + std::tanh(std::sqrt(2 / M_PI) *
                                             (v + 0.044715 * v * v * v)))
                        : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      }
      return y;
    };
    expectNear(runOp("gelu", {{{10}, x}}, {{DType::F32, {10}}},
                     {{"tanh", tanhForm}})[0],
               f({x}), 1e-6);
    expectNear(runOp("gelu_grad", {{{10}, g}, {{10}, x}}, {{DType::F32, {10}}},
                     {{"tanh", tanhForm}})[0],
               vjp(f, {x}, 0, g), 1e-5);
  }
}

TEST(Ops, SoftmaxAndGradAlongAnyAxis) {
  Shape s = {2, 3, 4};
  Values x = randomValues(24, 12), g = randomValues(24, 13);
  for (int64_t axis : {-1, 1, 0}) {
    int64_t a = axis < 0 ? axis + 3 : axis;
    Values y = refSoftmax(x, s, a);
    expectNear(
        runOp("softmax", {{s, x}}, {{DType::F32, s}}, {{"axis", axis}})[0], y,
        1e-6);
    auto f = [&](const std::vector<Values> &in) {
      return refSoftmax(in[0], s, a);
    };
    Values yf(y.begin(), y.end());
    expectNear(runOp("softmax_grad", {{s, g}, {s, yf}}, {{DType::F32, s}},
                     {{"axis", axis}})[0],
               vjp(f, {x}, 0, g), 1e-5);
  }
}

TEST(Ops, LayerNormAndGrad) {
  const int64_t rows = 3, cols = 5;
  Values x = randomValues(rows * cols, 14, 2.0), w = randomValues(cols, 15),
         b = randomValues(cols, 16), g = randomValues(rows * cols, 17);
  for (double &v : x)
    v += 3.0;
  double eps = 1e-5;
  auto f = [&](const std::vector<Values> &in) {
    return refLayernorm(in, cols, eps);
  };
  Shape s = {rows, cols};
  expectNear(runOp("layernorm", {{s, x}, {{cols}, w}, {{cols}, b}},
                   {{DType::F32, s}}, {{"epsilon", eps}})[0],
             f({x, w, b}), 1e-5);
  auto grads =
      runOp("layernorm_grad", {{s, g}, {s, x}, {{cols}, w}},
            {{DType::F32, s}, {DType::F32, {cols}}, {DType::F32, {cols}}},
            {{"epsilon", eps}});
  expectNear(grads[0], vjp(f, {x, w, b}, 0, g), 1e-4, "dx");
  expectNear(grads[1], vjp(f, {x, w, b}, 1, g), 1e-4, "dweight");
  expectNear(grads[2], vjp(f, {x, w, b}, 2, g), 1e-4, "dbias");
}

TEST(Ops, AttentionAndGrad) {
  Shape s = {2, 2, 4, 3};
  int64_t n = count(s);
  Values q = randomValues(n, 18), k = randomValues(n, 19),
         v = randomValues(n, 20), g = randomValues(n, 21), mask(16);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      mask[i * 4 + j] = j <= i ? 0.0 : -std::numeric_limits<double>::infinity();
  double scale = 0.4;
  auto f = [&](const std::vector<Values> &in) {
    return refAttention(in, s, scale);
  };
  expectNear(runOp("attention", {{s, q}, {s, k}, {s, v}, {{4, 4}, mask}},
                   {{DType::F32, s}}, {{"scale", scale}})[0],
             f({q, k, v, mask}), 1e-5);
  auto grads = runOp(
      "attention_grad", {{s, g}, {s, q}, {s, k}, {s, v}, {{4, 4}, mask}},
      {{DType::F32, s}, {DType::F32, s}, {DType::F32, s}}, {{"scale", scale}});
  // FD on -inf masks is fine: the masked entries stay -inf.
  const char *names[] = {"dq", "dk", "dv"};
  for (size_t i = 0; i < 3; ++i)
    expectNear(grads[i], vjp(f, {q, k, v, mask}, i, g), 1e-4, names[i]);
}

TEST(Ops, AttentionOverMoreKeys) {
  // A decode step: one query at position 3 over a cache of 5 keys.
  Shape s = {2, 2, 1, 3}, ks = {2, 2, 5, 3};
  Values q = randomValues(count(s), 30), k = randomValues(count(ks), 31),
         v = randomValues(count(ks), 32), g = randomValues(count(s), 33);
  const double inf = std::numeric_limits<double>::infinity();
  Values mask = {0, 0, 0, 0, -inf};
  double scale = 0.4;
  auto f = [&](const std::vector<Values> &in) {
    return refAttention(in, s, scale, 5);
  };
  expectNear(runOp("attention", {{s, q}, {ks, k}, {ks, v}, {{1, 5}, mask}},
                   {{DType::F32, s}}, {{"scale", scale}})[0],
             f({q, k, v, mask}), 1e-5);
  auto grads = runOp("attention_grad",
                     {{s, g}, {s, q}, {ks, k}, {ks, v}, {{1, 5}, mask}},
                     {{DType::F32, s}, {DType::F32, ks}, {DType::F32, ks}},
                     {{"scale", scale}});
  const char *names[] = {"dq", "dk", "dv"};
  for (size_t i = 0; i < 3; ++i)
    expectNear(grads[i], vjp(f, {q, k, v, mask}, i, g), 1e-4, names[i]);
}

TEST(Ops, CrossEntropyAndGrad) {
  Shape s = {2, 3, 7};
  Values logits = randomValues(42, 22, 2.0), targets = {0, 6, 3, 3, 1, 5};
  auto f = [&](const std::vector<Values> &in) {
    double loss = 0;
    for (int r = 0; r < 6; ++r) {
      double mx = -1e300, sum = 0;
      for (int c = 0; c < 7; ++c)
        mx = std::max(mx, in[0][r * 7 + c]);
      for (int c = 0; c < 7; ++c)
        sum += std::exp(in[0][r * 7 + c] - mx);
      loss += (mx + std::log(sum) - in[0][r * 7 + int(targets[r])]) / 6;
    }
    return Values{loss};
  };
  auto loss = runOp("cross_entropy", {{s, logits}, {{2, 3}, targets, true}},
                    {{DType::F32, {}}});
  EXPECT_NEAR(loss[0][0], f({logits})[0], 1e-5);
  auto dlogits = runOp("cross_entropy_grad",
                       {{{}, {0.5}}, {s, logits}, {{2, 3}, targets, true}},
                       {{DType::F32, s}});
  Values want = vjp(f, {logits}, 0, {0.5});
  expectNear(dlogits[0], want, 1e-5);
  // An out-of-range target names the op and the value.
  Values bad = targets;
  bad[2] = 7;
  EXPECT_THROW(
      {
        try {
          runOp("cross_entropy", {{s, logits}, {{2, 3}, bad, true}},
                {{DType::F32, {}}});
        } catch (const ExecError &e) {
          EXPECT_NE(std::string(e.what()).find("label 7 at position 2"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      ExecError);
}

TEST(Ops, LinearCrossEntropyAndGrad) {
  // x [2, 3, 4] times wᵀ for w [7, 4]: 7 classes in chunks of 3, 3 and 1.
  Shape xs = {2, 3, 4}, ws = {7, 4}, rows = {2, 3};
  Values x = randomValues(24, 31), w = randomValues(28, 32, 2.0);
  Values targets = {0, 6, 3, 3, 1, 5};
  auto f = [&](const std::vector<Values> &in) {
    double loss = 0;
    for (int r = 0; r < 6; ++r) {
      Values logits(7, 0.0);
      for (int c = 0; c < 7; ++c)
        for (int k = 0; k < 4; ++k)
          logits[c] += in[0][r * 4 + k] * in[1][c * 4 + k];
      double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
      for (double z : logits)
        sum += std::exp(z - mx);
      loss += (mx + std::log(sum) - logits[int(targets[r])]) / 6;
    }
    return Values{loss};
  };
  nlohmann::json chunk = {{"chunk", 3}};
  auto forward =
      runOp("linear_cross_entropy", {{xs, x}, {ws, w}, {rows, targets, true}},
            {{DType::F32, {}}}, chunk);
  EXPECT_NEAR(forward[0][0], f({x, w})[0], 1e-5);
  auto grads =
      runOp("linear_cross_entropy_grad",
            {{{}, {0.5}}, {xs, x}, {ws, w}, {rows, targets, true}},
            {{DType::F32, {}}, {DType::F32, xs}, {DType::F32, ws}}, chunk);
  EXPECT_EQ(grads[0][0], forward[0][0]); // the same loss, bit for bit
  expectNear(grads[1], vjp(f, {x, w}, 0, {0.5}), 1e-4, "dx");
  expectNear(grads[2], vjp(f, {x, w}, 1, {0.5}), 1e-4, "dw");
}

} // namespace
} // namespace giga::exec::test
