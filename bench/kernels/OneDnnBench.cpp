//===- OneDnnBench.cpp - giga's hand kernels against oneDNN primitives ----===//
//
// giga_onednn_bench [--threads N] [--reps N]
//
// Times giga's layer norm, GELU and softmax kernels and the matching oneDNN
// primitives at the shapes of one GPT-2 124M layer with B=8, T=256 (width
// 768, 12 heads), reports the median over --reps runs of each, and the max
// abs difference between the two outputs. oneDNN primitives are created once;
// only execute + stream.wait() is timed.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"
#include "runtime/kernels/Kernels.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace giga::kernels;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

/// Both timings of one computation, their ratio, and the largest differences
/// between the two outputs.
void reportPair(const std::string &gigaName, double gigaMs,
                const std::string &dnnlName, double dnnlMs,
                const std::vector<std::pair<const char *, double>> &diffs) {
  std::printf("  %-40s %9.3f ms\n", gigaName.c_str(), gigaMs);
  std::printf("  %-40s %9.3f ms\n", dnnlName.c_str(), dnnlMs);
  std::printf("  -> oneDNN/giga time %.2fx; max |giga - oneDNN|:",
              dnnlMs / gigaMs);
  for (auto &[what, d] : diffs)
    std::printf(" %s %.3g", what, d);
  std::printf("\n\n");
}

struct Dnnl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};

  dnnl::memory wrap(const dnnl::memory::desc &md, std::vector<float> &buf) {
    return dnnl::memory(md, eng, buf.data());
  }
  void run(const dnnl::primitive &p,
           const std::unordered_map<int, dnnl::memory> &args) {
    p.execute(strm, args);
    strm.wait();
  }
};

void benchLayerNorm(Dnnl &d, int reps) {
  const int64_t rows = 2048, cols = 768;
  const float eps = 1e-5f;
  auto x = giga::bench::randomBuffer(rows * cols, -2, 2, 1);
  auto dy = giga::bench::randomBuffer(rows * cols, -2, 2, 2);
  auto gamma = giga::bench::randomBuffer(cols, 0.9f, 1.1f, 3);
  auto beta = giga::bench::randomBuffer(cols, -0.1f, 0.1f, 4);

  std::vector<float> gY(rows * cols), gMean(rows), gRstd(rows),
      gDx(rows * cols), gDg(cols), gDb(cols);
  std::vector<float> nY(rows * cols), nMean(rows), nVar(rows), nDx(rows * cols),
      nDg(cols), nDb(cols);

  dnnl::memory::desc dataMd({rows, cols}, dt::f32, tag::ab);
  dnnl::memory::desc statMd({rows}, dt::f32, tag::a);
  dnnl::memory::desc chanMd({cols}, dt::f32, tag::a);
  auto flags = dnnl::normalization_flags::use_scale |
               dnnl::normalization_flags::use_shift;
  dnnl::layer_normalization_forward::primitive_desc fwdPd(
      {dnnl::prop_kind::forward_training, dataMd, statMd, eps, flags}, d.eng);
  dnnl::layer_normalization_backward::primitive_desc bwdPd(
      {dnnl::prop_kind::backward, dataMd, dataMd, statMd, eps, flags}, d.eng,
      fwdPd);
  dnnl::layer_normalization_forward fwd(fwdPd);
  dnnl::layer_normalization_backward bwd(bwdPd);
  auto mX = d.wrap(dataMd, x), mY = d.wrap(dataMd, nY),
       mMean = d.wrap(statMd, nMean), mVar = d.wrap(statMd, nVar),
       mGamma = d.wrap(chanMd, gamma), mBeta = d.wrap(chanMd, beta),
       mDy = d.wrap(dataMd, dy), mDx = d.wrap(dataMd, nDx),
       mDg = d.wrap(chanMd, nDg), mDb = d.wrap(chanMd, nDb);
  std::unordered_map<int, dnnl::memory> fwdArgs{
      {DNNL_ARG_SRC, mX},       {DNNL_ARG_DST, mY},
      {DNNL_ARG_MEAN, mMean},   {DNNL_ARG_VARIANCE, mVar},
      {DNNL_ARG_SCALE, mGamma}, {DNNL_ARG_SHIFT, mBeta}};
  std::unordered_map<int, dnnl::memory> bwdArgs{
      {DNNL_ARG_SRC, mX},        {DNNL_ARG_DIFF_DST, mDy},
      {DNNL_ARG_MEAN, mMean},    {DNNL_ARG_VARIANCE, mVar},
      {DNNL_ARG_SCALE, mGamma},  {DNNL_ARG_SHIFT, mBeta},
      {DNNL_ARG_DIFF_SRC, mDx},  {DNNL_ARG_DIFF_SCALE, mDg},
      {DNNL_ARG_DIFF_SHIFT, mDb}};

  std::printf("layernorm [%ldx%ld], eps 1e-5, scale+shift\n", long(rows),
              long(cols));
  double gF = giga::bench::medianMs(reps, [&] {
    layernormForward(gY.data(), gMean.data(), gRstd.data(), x.data(),
                     gamma.data(), beta.data(), rows, cols, eps);
  });
  double nF = giga::bench::medianMs(reps, [&] { d.run(fwd, fwdArgs); });
  // Compare the saved statistics as rstd.
  std::vector<float> nRstd(rows);
  for (int64_t r = 0; r < rows; ++r)
    nRstd[r] = 1.0f / std::sqrt(nVar[r] + eps);
  reportPair("giga   layernormForward", gF,
             "oneDNN layer_normalization_forward", nF,
             {{"out", maxAbsDiff(gY, nY)},
              {"mean", maxAbsDiff(gMean, nMean)},
              {"rstd", maxAbsDiff(gRstd, nRstd)}});

  double gB = giga::bench::medianMs(reps, [&] {
    layernormBackward(gDx.data(), gDg.data(), gDb.data(), dy.data(), x.data(),
                      gamma.data(), gMean.data(), gRstd.data(), rows, cols,
                      false);
  });
  double nB = giga::bench::medianMs(reps, [&] { d.run(bwd, bwdArgs); });
  reportPair("giga   layernormBackward", gB,
             "oneDNN layer_normalization_backward", nB,
             {{"dx", maxAbsDiff(gDx, nDx)},
              {"dgamma", maxAbsDiff(gDg, nDg)},
              {"dbeta", maxAbsDiff(gDb, nDb)}});
}

void benchGelu(Dnnl &d, int reps, GeluApproximation approx) {
  const int64_t rows = 2048, cols = 3072, n = rows * cols;
  bool exact = approx == GeluApproximation::None;
  auto x = giga::bench::randomBuffer(n, -2, 2, 5);
  auto dy = giga::bench::randomBuffer(n, -2, 2, 6);
  std::vector<float> gY(n), gDx(n), nY(n), nDx(n);

  auto alg = exact ? dnnl::algorithm::eltwise_gelu_erf
                   : dnnl::algorithm::eltwise_gelu_tanh;
  dnnl::memory::desc md({rows, cols}, dt::f32, tag::ab);
  dnnl::eltwise_forward::primitive_desc fwdPd(
      {dnnl::prop_kind::forward_training, alg, md}, d.eng);
  dnnl::eltwise_backward::primitive_desc bwdPd({alg, md, md}, d.eng, fwdPd);
  dnnl::eltwise_forward fwd(fwdPd);
  dnnl::eltwise_backward bwd(bwdPd);
  auto mX = d.wrap(md, x), mY = d.wrap(md, nY), mDy = d.wrap(md, dy),
       mDx = d.wrap(md, nDx);
  std::unordered_map<int, dnnl::memory> fwdArgs{{DNNL_ARG_SRC, mX},
                                                {DNNL_ARG_DST, mY}};
  std::unordered_map<int, dnnl::memory> bwdArgs{
      {DNNL_ARG_SRC, mX}, {DNNL_ARG_DIFF_DST, mDy}, {DNNL_ARG_DIFF_SRC, mDx}};

  const char *kind = exact ? "erf" : "tanh";
  std::printf("gelu %s [%ldx%ld]\n", kind, long(rows), long(cols));
  double gF = giga::bench::medianMs(
      reps, [&] { geluForward(gY.data(), x.data(), n, approx); });
  double nF = giga::bench::medianMs(reps, [&] { d.run(fwd, fwdArgs); });
  reportPair(std::string("giga   geluForward ") + kind, gF,
             std::string("oneDNN eltwise_forward gelu_") + kind, nF,
             {{"out", maxAbsDiff(gY, nY)}});

  double gB = giga::bench::medianMs(reps, [&] {
    geluBackward(gDx.data(), x.data(), dy.data(), n, approx, false);
  });
  double nB = giga::bench::medianMs(reps, [&] { d.run(bwd, bwdArgs); });
  reportPair(std::string("giga   geluBackward ") + kind, gB,
             std::string("oneDNN eltwise_backward gelu_") + kind, nB,
             {{"dx", maxAbsDiff(gDx, nDx)}});
}

void benchSoftmax(Dnnl &d, int reps) {
  const int64_t rows = 96 * 256, cols = 256, n = rows * cols;
  auto x = giga::bench::randomBuffer(n, -2, 2, 7);
  auto dy = giga::bench::randomBuffer(n, -2, 2, 8);
  std::vector<float> gY(n), gDx(n), nY(n), nDx(n);

  dnnl::memory::desc md({rows, cols}, dt::f32, tag::ab);
  dnnl::softmax_v2_forward::primitive_desc fwdPd(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::softmax_accurate, md,
       md, 1},
      d.eng);
  dnnl::softmax_v2_backward::primitive_desc bwdPd(
      {dnnl::algorithm::softmax_accurate, md, md, md, 1}, d.eng, fwdPd);
  dnnl::softmax_v2_forward fwd(fwdPd);
  dnnl::softmax_v2_backward bwd(bwdPd);
  auto mX = d.wrap(md, x), mY = d.wrap(md, nY), mDy = d.wrap(md, dy),
       mDx = d.wrap(md, nDx);
  std::unordered_map<int, dnnl::memory> fwdArgs{{DNNL_ARG_SRC, mX},
                                                {DNNL_ARG_DST, mY}};
  // Each backward uses its own forward's output.
  std::unordered_map<int, dnnl::memory> bwdArgs{
      {DNNL_ARG_DST, mY}, {DNNL_ARG_DIFF_DST, mDy}, {DNNL_ARG_DIFF_SRC, mDx}};

  std::printf("softmax last axis [%ldx%ld] (B8 H12 T256 probs)\n", long(rows),
              long(cols));
  double gF = giga::bench::medianMs(
      reps, [&] { softmaxForward(gY.data(), x.data(), rows, cols); });
  double nF = giga::bench::medianMs(reps, [&] { d.run(fwd, fwdArgs); });
  reportPair("giga   softmaxForward", gF, "oneDNN softmax_forward accurate", nF,
             {{"out", maxAbsDiff(gY, nY)}});

  double gB = giga::bench::medianMs(reps, [&] {
    softmaxBackward(gDx.data(), gY.data(), dy.data(), rows, cols, false);
  });
  double nB = giga::bench::medianMs(reps, [&] { d.run(bwd, bwdArgs); });
  reportPair("giga   softmaxBackward", gB, "oneDNN softmax_backward accurate",
             nB, {{"dx", maxAbsDiff(gDx, nDx)}});
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1, reps = 10;
  if (!giga::bench::parseArgs(argc, argv, threads, reps))
    return 1;
  if (threads < 1 || reps < 1) {
    std::fprintf(stderr, "--threads and --reps must be >= 1\n");
    return 1;
  }
  setMatmulThreads(threads);    // giga's kernels split over this many threads
  omp_set_num_threads(threads); // oneDNN (GNU OpenMP) on the main thread

  std::printf("command:");
  for (int i = 0; i < argc; ++i)
    std::printf(" %s", argv[i]);
  const dnnl_version_t *v = dnnl_version();
  std::printf("\nmachine: %s, %u hardware threads\n",
              giga::bench::cpuModel().c_str(),
              std::thread::hardware_concurrency());
  std::printf("build: -march=%s; oneDNN %d.%d.%d, ISA %s; threads: %d; median "
              "of %d runs\n\n",
              GIGA_KERNELS_MARCH, v->major, v->minor, v->patch,
              cpuIsaName(hostCpu().isa), threads, reps);

  try {
    Dnnl d;
    benchLayerNorm(d, reps);
    benchGelu(d, reps, GeluApproximation::None);
    benchGelu(d, reps, GeluApproximation::Tanh);
    benchSoftmax(d, reps);
  } catch (const dnnl::error &e) {
    std::fprintf(stderr, "oneDNN error: %s (status %d)\n", e.what(),
                 int(e.status));
    return 1;
  }
  return 0;
}
