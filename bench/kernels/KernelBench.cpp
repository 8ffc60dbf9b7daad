//===- KernelBench.cpp - kernel timings at the GPT-2 124M shapes ----------===//
//
// giga_kernels_bench [--threads N] [--reps N]
//
// Times each kernel at the shapes of one GPT-2 124M layer with B=8, T=256
// (12 heads of 64, width 768), reports the median over --reps runs, and
// prints the command and the machine so numbers can be compared.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"
#include "runtime/kernels/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace giga::kernels;
using giga::bench::cpuModel;
using giga::bench::medianMs;
using giga::bench::randomBuffer;

namespace {

void report(const char *name, double ms, double flops) {
  if (flops > 0)
    std::printf("%-50s %9.3f ms %8.1f GFLOP/s\n", name, ms, flops / ms / 1e6);
  else
    std::printf("%-50s %9.3f ms\n", name, ms);
}

/// fp32, and bf16 (fp32 operands converted by run(), as gigarun's are) where
/// the CPU has bf16 arithmetic.
void benchMatmul(const char *name, MatmulShape s, int reps) {
  int64_t bBatch = s.broadcastB ? 1 : s.batch;
  auto a = randomBuffer(s.batch * s.m * s.k);
  auto b = randomBuffer(bBatch * s.k * s.n);
  std::vector<float> c(s.batch * s.m * s.n);
  for (MatmulPrecision precision :
       {MatmulPrecision::F32, MatmulPrecision::Bf16}) {
    if (precision == MatmulPrecision::Bf16 && !hasBf16Arithmetic())
      break;
    s.precision = precision;
    MatmulPlan plan(s);
    double ms = medianMs(reps, [&] { plan.run(a.data(), b.data(), c.data()); });
    std::string label = std::string(name) + " " + precisionName(precision);
    report(label.c_str(), ms, 2.0 * s.batch * s.m * s.n * s.k);
  }
}

/// A decode step's product: one row times a weight [n, k]^T, which only
/// streams the weight, so the figure is its GB/s: fp32, and bf16 from the
/// weight store's bf16 copy (StoreOptions::bf16Copies) where the CPU has it.
void benchDecodeMatmul(const char *name, int64_t n, int64_t k, int reps) {
  MatmulShape s{1, 1, n, k, false, true};
  auto a = randomBuffer(k);
  auto b = randomBuffer(n * k);
  std::vector<uint16_t> bBf16(b.size());
  toBf16(bBf16.data(), b.data(), int64_t(b.size()));
  std::vector<float> c(n);
  for (MatmulPrecision precision :
       {MatmulPrecision::F32, MatmulPrecision::Bf16}) {
    if (precision == MatmulPrecision::Bf16 && !hasBf16Arithmetic())
      break;
    s.precision = precision;
    MatmulPlan plan(s);
    bool bf16 = precision == MatmulPrecision::Bf16;
    double ms = medianMs(reps, [&] {
      plan.run(a.data(), b.data(), c.data(), nullptr,
               bf16 ? bBf16.data() : nullptr);
    });
    double bytes = double(n) * k * (bf16 ? 2 : 4);
    std::printf("%-52s %9.3f ms  %6.1f GB/s of weights\n",
                (std::string(name) + " " + precisionName(precision)).c_str(),
                ms, bytes / ms / 1e6);
  }
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1, reps = 10;
  if (!giga::bench::parseArgs(argc, argv, threads, reps))
    return 1;
  setMatmulThreads(threads);

  std::printf("command:");
  for (int i = 0; i < argc; ++i)
    std::printf(" %s", argv[i]);
  std::printf("\nmachine: %s, %u hardware threads\n", cpuModel().c_str(),
              std::thread::hardware_concurrency());
  std::printf("build: -march=%s; oneDNN ISA: %s; matmul threads: %d; median "
              "of %d runs\n\n",
              GIGA_KERNELS_MARCH, cpuIsaName(hostCpu().isa), threads, reps);

  const int64_t B = 8, T = 256, C = 768, H = 12, D = 64, N = B * T;
  const int64_t V = 50257;

  // Plan creation is what the cache saves on every call after the first.
  {
    auto start = std::chrono::steady_clock::now();
    MatmulPlan plan(MatmulShape{1, N, 3 * C, C, false, true});
    auto end = std::chrono::steady_clock::now();
    report("matmul plan creation (qkv shape)",
           std::chrono::duration<double, std::milli>(end - start).count(), 0);
  }
  benchMatmul("matmul qkv      [2048x768]x[2304x768]^T",
              {1, N, 3 * C, C, false, true}, reps);
  benchMatmul("matmul fc       [2048x768]x[3072x768]^T",
              {1, N, 4 * C, C, false, true}, reps);
  benchMatmul("matmul proj     [2048x3072]x[768x3072]^T",
              {1, N, C, 4 * C, false, true}, reps);
  benchMatmul("matmul dW fc    [2048x3072]^T[2048x768] +=",
              {1, 4 * C, C, N, true, false, false, true}, reps);
  benchMatmul("matmul lm head  [2048x768]x[50257x768]^T",
              {1, N, V, C, false, true}, std::max(1, reps / 5));
  // The small model's tied head (compare.sh): 768 tokens of width 128.
  benchMatmul("matmul head fwd [768x128]x[50257x128]^T",
              {1, 768, V, 128, false, true}, reps);
  benchMatmul("matmul head dX  [768x50257]x[50257x128]",
              {1, 768, 128, V, false, false}, reps);
  benchMatmul("matmul head dW  [768x50257]^T[768x128] +=",
              {1, V, 128, 768, true, false, false, true}, reps);
  benchDecodeMatmul("decode qkv      [1x768]x[2304x768]^T", 3 * C, C, reps);
  benchDecodeMatmul("decode fc       [1x768]x[3072x768]^T", 4 * C, C, reps);
  benchDecodeMatmul("decode proj     [1x3072]x[768x3072]^T", C, 4 * C, reps);
  benchDecodeMatmul("decode lm head  [1x768]x[50257x768]^T", V, C, reps);
  benchMatmul("matmul scores   96x[256x64]x[256x64]^T",
              {B * H, T, T, D, false, true, false, false, 0.125f}, reps);

  // GFLOP/s of the whole T x T products (4 B H T^2 D forward, twice that
  // backward), as an unfused attention computes them: the causal blocks the
  // kernel skips count as done. "one block" is the same kernel with a block
  // of all T queries, which multiplies the whole T x T (no block skipped),
  // for comparison in the same run. Backward recomputes the probabilities.
  struct AttentionCase {
    int64_t batch, seqLen;
    MatmulPrecision precision;
    bool oneBlock;
  };
  for (AttentionCase c : {AttentionCase{B, T, MatmulPrecision::F32, false},
                          {B, T, MatmulPrecision::F32, true},
                          {B, T, MatmulPrecision::Bf16, false},
                          {2, 1024, MatmulPrecision::F32, false},
                          {2, 1024, MatmulPrecision::F32, true},
                          {2, 1024, MatmulPrecision::Bf16, false}}) {
    if (c.precision == MatmulPrecision::Bf16 && !hasBf16Arithmetic())
      continue;
    AttentionShape s{c.batch, H, c.seqLen, D};
    s.precision = c.precision;
    if (c.oneBlock)
      s.queryBlock = c.seqLen;
    auto q = randomBuffer(s.qkvSize()), k = randomBuffer(s.qkvSize()),
         v = randomBuffer(s.qkvSize()), dout = randomBuffer(s.qkvSize());
    std::vector<float> out(s.qkvSize()), scratch(2 * s.scratchSize()),
        mask(c.seqLen * c.seqLen), dq(s.qkvSize()), dk(s.qkvSize()),
        dv(s.qkvSize());
    fillCausalMask(mask.data(), c.seqLen);
    double flops = 4.0 * c.batch * H * c.seqLen * c.seqLen * D;
    auto label = [&](const char *pass) {
      char text[96];
      std::snprintf(text, sizeof text, "attention.%s B%ld H%ld T%ld %s%s", pass,
                    long(c.batch), long(H), long(c.seqLen),
                    precisionName(c.precision), c.oneBlock ? " one block" : "");
      return std::string(text);
    };
    report(label("fwd").c_str(),
           medianMs(reps,
                    [&] {
                      attentionForward(out.data(), scratch.data(), q.data(),
                                       k.data(), v.data(), mask.data(), s);
                    }),
           flops);
    report(label("bwd").c_str(),
           medianMs(reps,
                    [&] {
                      attentionBackward(dq.data(), dk.data(), dv.data(),
                                        scratch.data(), dout.data(), q.data(),
                                        k.data(), v.data(), mask.data(), s,
                                        false);
                    }),
           2 * flops);
  }
  {
    auto x = randomBuffer(N * C), gamma = randomBuffer(C),
         beta = randomBuffer(C), dy = randomBuffer(N * C);
    std::vector<float> y(N * C), mean(N), rstd(N), dx(N * C), dg(C), db(C);
    report("layernorm.fwd [2048x768]",
           medianMs(reps,
                    [&] {
                      layernormForward(y.data(), mean.data(), rstd.data(),
                                       x.data(), gamma.data(), beta.data(), N,
                                       C, 1e-5f);
                    }),
           0);
    report("layernorm.bwd",
           medianMs(reps,
                    [&] {
                      layernormBackward(dx.data(), dg.data(), db.data(),
                                        dy.data(), x.data(), gamma.data(),
                                        mean.data(), rstd.data(), N, C, false);
                    }),
           0);
  }
  {
    auto x = randomBuffer(N * 4 * C), dy = randomBuffer(N * 4 * C);
    std::vector<float> y(N * 4 * C);
    report("gelu.fwd exact [2048x3072]",
           medianMs(reps,
                    [&] {
                      geluForward(y.data(), x.data(), N * 4 * C,
                                  GeluApproximation::None);
                    }),
           0);
    report("gelu.bwd exact",
           medianMs(reps,
                    [&] {
                      geluBackward(y.data(), x.data(), dy.data(), N * 4 * C,
                                   GeluApproximation::None, false);
                    }),
           0);
  }
  {
    auto logits = randomBuffer(N * V);
    std::vector<float> lse(N), dlogits(N * V);
    std::vector<int32_t> targets(N);
    for (int64_t i = 0; i < N; ++i)
      targets[i] = static_cast<int32_t>(i * 7919 % V);
    int r = std::max(1, reps / 5);
    report("cross_entropy.fwd [2048x50257]",
           medianMs(r,
                    [&] {
                      crossEntropyForward(lse.data(), logits.data(),
                                          targets.data(), N, V);
                    }),
           0);
    report("cross_entropy.bwd",
           medianMs(r,
                    [&] {
                      crossEntropyBackward(dlogits.data(), logits.data(),
                                           lse.data(), targets.data(), 1.0f, N,
                                           V, false);
                    }),
           0);
  }
  // The fused head and loss at the 124M shape (rows N, width C) and the
  // small model's (768 x 128), per vocabulary chunk: forward (eval) and the
  // gradient with its loss (train, which runs no forward op). Unfused, a
  // training step runs the head matmuls above (forward, dX, dW) plus
  // cross_entropy forward and backward.
  // bf16 (where the CPU has it) at two chunks only, to keep the bench short.
  for (auto [rows, width] : {std::pair<int64_t, int64_t>{N, C}, {768, 128}})
    for (auto [chunk, precision] :
         {std::pair{int64_t(512), MatmulPrecision::F32},
          {1024, MatmulPrecision::F32},
          {2048, MatmulPrecision::F32},
          {4096, MatmulPrecision::F32},
          {8192, MatmulPrecision::F32},
          {512, MatmulPrecision::Bf16},
          {2048, MatmulPrecision::Bf16}}) {
      if (precision == MatmulPrecision::Bf16 && !hasBf16Arithmetic())
        continue;
      LinearCrossEntropyShape shape{rows, width, V, chunk, precision};
      LinearCrossEntropyPlan plan(shape, true);
      auto x = randomBuffer(rows * width), w = randomBuffer(V * width);
      std::vector<float> scratch(shape.scratchFloats()), dx(rows * width),
          dw(V * width);
      std::vector<int32_t> targets(rows);
      for (int64_t i = 0; i < rows; ++i)
        targets[i] = static_cast<int32_t>(i * 7919 % V);
      int r = std::max(1, reps / 5);
      double flops = 2.0 * rows * width * V;
      char name[96];
      std::snprintf(name, sizeof(name),
                    "linear_cross_entropy     [%ldx%ld] /%ld %s", long(rows),
                    long(width), long(chunk), precisionName(precision));
      report(name,
             medianMs(r,
                      [&] {
                        plan.forward(scratch.data(), x.data(), w.data(),
                                     targets.data());
                      }),
             flops);
      std::snprintf(name, sizeof(name),
                    "linear_cross_entropy_grad [%ldx%ld] /%ld %s", long(rows),
                    long(width), long(chunk), precisionName(precision));
      report(name,
             medianMs(r,
                      [&] {
                        plan.forwardBackward(dx.data(), dw.data(),
                                             scratch.data(), x.data(), w.data(),
                                             targets.data(), 1.0f, false);
                      }),
             4 * flops); // the logits twice, dX and dW
    }
  {
    const int64_t n = 4 * C * C; // one fc weight
    auto p = randomBuffer(n), g = randomBuffer(n);
    std::vector<float> m(n), v(n);
    AdamWConfig config;
    int64_t step = 0;
    report("adamw [2.36M params]",
           medianMs(reps,
                    [&] {
                      adamwUpdate(p.data(), g.data(), m.data(), v.data(), n,
                                  config, ++step, true);
                    }),
           0);
    report("sumOfSquares [2.36M]",
           medianMs(reps,
                    [&] {
                      volatile double s = sumOfSquares(g.data(), n);
                      (void)s;
                    }),
           0);
  }
  return 0;
}
