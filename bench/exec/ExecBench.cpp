//===- ExecBench.cpp - the executor on GPT-2-small-shaped layers ----------===//
//
// giga_exec_bench [--layers N] [--reps N] [--batch B] [--seq T]
// Times evaluate() over a hand-built artifact of N pre-LN GPT-2 blocks
// (width 768, 12 heads, forward only: layernorm, qkv matmul, split,
// transposes, causal attention, projection, residual, layernorm, fc, gelu,
// projection, residual), weights streamed from an in-RAM store.
//
//===----------------------------------------------------------------------===//

#include "ArtifactBuilder.h"

#include "runtime/exec/Executor.h"
#include "runtime/store/WeightStore.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace giga;
using namespace giga::exec::test;

int main(int argc, char **argv) {
  int64_t layers = 2, reps = 5, B = 8, T = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int64_t value = std::atoll(argv[i + 1]);
    if (flag == "--layers")
      layers = value;
    else if (flag == "--reps")
      reps = value;
    else if (flag == "--batch")
      B = value;
    else if (flag == "--seq")
      T = value;
  }
  const int64_t C = 768, H = 12, D = C / H;
  ArtifactBuilder ab(B, T, 50257);
  int32_t ln1w = ab.param("ln1.w", {C}, "h", layers),
          ln1b = ab.param("ln1.b", {C}, "h", layers);
  int32_t qkvw = ab.param("qkv.w", {3 * C, C}, "h", layers),
          qkvb = ab.param("qkv.b", {3 * C}, "h", layers);
  int32_t projw = ab.param("proj.w", {C, C}, "h", layers),
          projb = ab.param("proj.b", {C}, "h", layers);
  int32_t ln2w = ab.param("ln2.w", {C}, "h", layers),
          ln2b = ab.param("ln2.b", {C}, "h", layers);
  int32_t fcw = ab.param("fc.w", {4 * C, C}, "h", layers),
          fcb = ab.param("fc.b", {4 * C}, "h", layers);
  int32_t fc2w = ab.param("fc2.w", {C, 4 * C}, "h", layers),
          fc2b = ab.param("fc2.b", {C}, "h", layers);
  auto buf = [&](const char *n, Shape s) { return ab.f32(n, s); };
  int32_t x = buf("x", {B, T, C}), mask = buf("mask", {T, T});
  int32_t bl1w = buf("ln1w", {C}), bl1b = buf("ln1b", {C}),
          bqw = buf("qkvw", {3 * C, C}), bqb = buf("qkvb", {3 * C}),
          bpw = buf("projw", {C, C}), bpb = buf("projb", {C}),
          bl2w = buf("ln2w", {C}), bl2b = buf("ln2b", {C}),
          bfw = buf("fcw", {4 * C, C}), bfb = buf("fcb", {4 * C}),
          bf2w = buf("fc2w", {C, 4 * C}), bf2b = buf("fc2b", {C});
  int32_t a1 = buf("a1", {B, T, C}), qkv0 = buf("qkv0", {B, T, 3 * C}),
          qkv = buf("qkv", {B, T, 3 * C});
  int32_t q = buf("q", {B, T, C}), k = buf("k", {B, T, C}),
          v = buf("v", {B, T, C});
  int32_t q4 = ab.alias("q4", q, {B, T, H, D}),
          k4 = ab.alias("k4", k, {B, T, H, D}),
          v4 = ab.alias("v4", v, {B, T, H, D});
  int32_t qh = buf("qh", {B, H, T, D}), kh = buf("kh", {B, H, T, D}),
          vh = buf("vh", {B, H, T, D});
  int32_t oh = buf("oh", {B, H, T, D}), o4 = buf("o4", {B, T, H, D});
  int32_t o = ab.alias("o", o4, {B, T, C});
  int32_t p0 = buf("p0", {B, T, C}), p1 = buf("p1", {B, T, C}),
          x1 = buf("x1", {B, T, C});
  int32_t a2 = buf("a2", {B, T, C}), f0 = buf("f0", {B, T, 4 * C}),
          f1 = buf("f1", {B, T, 4 * C});
  int32_t g = buf("g", {B, T, 4 * C}), m0 = buf("m0", {B, T, C}),
          m1 = buf("m1", {B, T, C});
  int32_t x2 = buf("x2", {B, T, C});
  {
    artifact::Kernel &kk = ab.kernel("pre");
    ab.op(kk, "causal_mask", {}, {W(mask)});
    ab.op(kk, "fill", {}, {W(x)}, {{"value", 0.1}});
  }
  {
    artifact::Kernel &kk = ab.kernel("h.fwd", "h", layers);
    std::pair<int32_t, int32_t> s[] = {
        {ln1w, bl1w}, {ln1b, bl1b}, {qkvw, bqw},  {qkvb, bqb},
        {projw, bpw}, {projb, bpb}, {ln2w, bl2w}, {ln2b, bl2b},
        {fcw, bfw},   {fcb, bfb},   {fc2w, bf2w}, {fc2b, bf2b}};
    for (auto [p, b] : s)
      kk.streamIn.push_back({p, W(b)});
    nlohmann::json tr = {{"transpose_rhs", true}};
    ab.op(kk, "layernorm", {W(x), W(bl1w), W(bl1b)}, {W(a1)},
          {{"epsilon", 1e-5}});
    ab.op(kk, "matmul", {W(a1), W(bqw)}, {W(qkv0)}, tr);
    ab.op(kk, "bias_add", {W(qkv0), W(bqb)}, {W(qkv)});
    ab.op(kk, "split", {W(qkv)}, {W(q), W(k), W(v)}, {{"axis", 2}});
    nlohmann::json perm = {{"permutation", {0, 2, 1, 3}}};
    ab.op(kk, "transpose", {W(q4)}, {W(qh)}, perm);
    ab.op(kk, "transpose", {W(k4)}, {W(kh)}, perm);
    ab.op(kk, "transpose", {W(v4)}, {W(vh)}, perm);
    ab.op(kk, "attention", {W(qh), W(kh), W(vh), W(mask)}, {W(oh)},
          {{"scale", 0.125}});
    ab.op(kk, "transpose", {W(oh)}, {W(o4)}, perm);
    ab.op(kk, "matmul", {W(o), W(bpw)}, {W(p0)}, tr);
    ab.op(kk, "bias_add", {W(p0), W(bpb)}, {W(p1)});
    ab.op(kk, "add", {W(x), W(p1)}, {W(x1)});
    ab.op(kk, "layernorm", {W(x1), W(bl2w), W(bl2b)}, {W(a2)},
          {{"epsilon", 1e-5}});
    ab.op(kk, "matmul", {W(a2), W(bfw)}, {W(f0)}, tr);
    ab.op(kk, "bias_add", {W(f0), W(bfb)}, {W(f1)});
    ab.op(kk, "gelu", {W(f1)}, {W(g)});
    ab.op(kk, "matmul", {W(g), W(bf2w)}, {W(m0)}, tr);
    ab.op(kk, "bias_add", {W(m0), W(bf2b)}, {W(m1)});
    ab.op(kk, "add", {W(x1), W(m1)}, {W(x2)});
    kk.carry.push_back({x, x2});
  }
  artifact::reserveOpScratch(ab.a);
  store::WeightStore store(ab.a, {});
  store.initialize(1);
  auto t0 = std::chrono::steady_clock::now();
  exec::Executor executor(ab.a, store);
  double setup = std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
  std::vector<int32_t> tokens(B * T, 0);
  evalMicroBatch(executor, tokens.data(), tokens.data()); // warm up
  std::vector<double> times;
  for (int64_t r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    evalMicroBatch(executor, tokens.data(), tokens.data());
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2];
  double flops = 2.0 * B * T * (12.0 * C * C) + 4.0 * B * H * T * T * D;
  std::printf("command: giga_exec_bench --layers %ld --reps %ld --batch %ld "
              "--seq %ld\n",
              long(layers), long(reps), long(B), long(T));
  std::printf("executor construction (checks + matmul plans): %.1f ms\n",
              setup);
  std::printf("forward of %ld GPT-2-small blocks, B=%ld T=%ld: median %.1f ms "
              "(%.1f ms/layer, %.1f GFLOP/s)\n",
              long(layers), long(B), long(T), median, median / layers,
              flops * layers / (median * 1e6));
  const float *out = static_cast<const float *>(executor.buffer(x));
  std::printf("checksum x[0..3]: %g %g %g\n", out[0], out[1], out[2]);
  return 0;
}
