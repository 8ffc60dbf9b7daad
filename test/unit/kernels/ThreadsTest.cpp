//===- ThreadsTest.cpp - the same bits on any thread count ----------------===//
//
// Kernels split rows, elements or columns over the matmul threads; sums
// over rows go column by column, and sums of squares in fixed blocks, so a
// run on 1, 2 or 3 threads gives identical results. Sizes are large enough
// that every kernel really splits its work. Attention runs a head per thread,
// each product on one thread. (oneDNN's matmuls, and so the fused head, may
// block their sums differently on another thread count: they agree to
// rounding, not to the bit.)
//
//===----------------------------------------------------------------------===//

#include "GradCheck.h"
#include "runtime/kernels/Kernels.h"

#include <cstring>
#include <functional>

namespace giga::kernels::test {
namespace {

/// Runs `kernel` into fresh outputs on 1, 2 and 3 threads and expects the
/// outputs bit for bit equal. `kernel` fills the vectors it is given.
void expectThreadIndependent(
    const std::string &what, const std::vector<size_t> &sizes,
    const std::function<void(std::vector<std::vector<float>> &)> &kernel) {
  std::vector<std::vector<float>> reference;
  for (int threads : {1, 2, 3}) {
    setMatmulThreads(threads);
    std::vector<std::vector<float>> outputs;
    for (size_t size : sizes)
      outputs.push_back(randomFloats(size, 99, -1.0f, 1.0f)); // accumulated
    kernel(outputs);
    if (threads == 1) {
      reference = outputs;
      continue;
    }
    for (size_t t = 0; t < sizes.size(); ++t)
      EXPECT_EQ(std::memcmp(outputs[t].data(), reference[t].data(),
                            sizes[t] * sizeof(float)),
                0)
          << what << ": output " << t << " differs on " << threads
          << " threads";
  }
  setMatmulThreads(1);
}

const int64_t kRows = 384, kCols = 200;
const std::vector<float> kX = randomFloats(kRows * kCols, 1, -2.0f, 2.0f);
const std::vector<float> kDy = randomFloats(kRows * kCols, 2, -1.0f, 1.0f);
const std::vector<float> kGamma = randomFloats(kCols, 3, 0.5f, 1.5f);

TEST(Threads, ElementwiseAndRowKernels) {
  size_t n = kX.size();
  expectThreadIndependent("gelu", {n, n}, [&](auto &o) {
    geluForward(o[0].data(), kX.data(), n, GeluApproximation::None);
    geluBackward(o[1].data(), kX.data(), kDy.data(), n, GeluApproximation::Tanh,
                 /*accumulate=*/true);
  });
  expectThreadIndependent("softmax", {n, n}, [&](auto &o) {
    softmaxForward(o[0].data(), kX.data(), kRows, kCols);
    softmaxBackward(o[1].data(), o[0].data(), kDy.data(), kRows, kCols, true);
  });
  expectThreadIndependent("bias and sums", {n, kCols, kCols}, [&](auto &o) {
    biasAddForward(o[0].data(), kX.data(), kGamma.data(), kRows, kCols);
    biasAddBackward(o[1].data(), kDy.data(), kRows, kCols, true);
    sumRows(o[2].data(), kX.data(), kRows, kCols);
  });
}

TEST(Threads, NormalizationGradientsSumRowsInOrder) {
  size_t n = kX.size();
  expectThreadIndependent(
      "layernorm", {n, kRows, kRows, n, kCols, kCols}, [&](auto &o) {
        layernormForward(o[0].data(), o[1].data(), o[2].data(), kX.data(),
                         kGamma.data(), kGamma.data(), kRows, kCols, 1e-5f);
        layernormBackward(o[3].data(), o[4].data(), o[5].data(), kDy.data(),
                          kX.data(), kGamma.data(), o[1].data(), o[2].data(),
                          kRows, kCols, true);
      });
  expectThreadIndependent("rmsnorm", {n, kRows, n, kCols}, [&](auto &o) {
    rmsnormForward(o[0].data(), o[1].data(), kX.data(), kGamma.data(), kRows,
                   kCols, 1e-5f);
    rmsnormBackward(o[2].data(), o[3].data(), kDy.data(), kX.data(),
                    kGamma.data(), o[1].data(), kRows, kCols, true);
  });
}

TEST(Threads, EmbeddingGradientAddsRepeatedTokensInOrder) {
  const int64_t vocab = 50;
  std::vector<int32_t> tokens(kRows);
  for (int64_t i = 0; i < kRows; ++i)
    tokens[i] = static_cast<int32_t>((i * 7) % 13); // many repeats
  expectThreadIndependent(
      "embedding", {kRows * kCols, vocab * kCols}, [&](auto &o) {
        embeddingForward(o[0].data(), tokens.data(), kX.data(), kRows, vocab,
                         kCols);
        embeddingBackward(o[1].data(), tokens.data(), kDy.data(), kRows, vocab,
                          kCols, true);
      });
}

TEST(Threads, OptimizerAndSumOfSquares) {
  size_t n = kX.size();
  std::vector<double> norms;
  expectThreadIndependent("adamw", {n, n, n}, [&](auto &o) {
    for (float &v : o[2])
      v = v * v; // the second moment is >= 0
    AdamWConfig config;
    config.weightDecay = 0.1;
    adamwUpdate(o[0].data(), kDy.data(), o[1].data(), o[2].data(), n, config, 3,
                true);
    norms.push_back(sumOfSquares(o[0].data(), int64_t(n)));
    norms.push_back(accumulateSumOfSquares(o[1].data(), kX.data(), int64_t(n)));
  });
  ASSERT_EQ(norms.size(), 6u);
  EXPECT_EQ(norms[1], norms[3]);
  EXPECT_EQ(norms[1], norms[5]);
  EXPECT_EQ(norms[0], norms[2]);
  EXPECT_EQ(norms[0], norms[4]);
}

TEST(Threads, AttentionRunsAHeadPerThread) {
  // Several threads run the same oneDNN primitives at once (a block's
  // products), each with its own scratchpad.
  AttentionShape shape{2, 3, 70, 16};
  shape.queryBlock = 16;
  size_t n = shape.qkvSize();
  std::vector<float> q = randomFloats(n, 4), k = randomFloats(n, 5),
                     v = randomFloats(n, 6), dout = randomFloats(n, 7),
                     mask(70 * 70), scratch(2 * shape.scratchSize());
  fillCausalMask(mask.data(), 70);
  for (int repeat = 0; repeat < 3; ++repeat)
    expectThreadIndependent("attention", {n, n, n, n}, [&](auto &o) {
      attentionForward(o[0].data(), scratch.data(), q.data(), k.data(),
                       v.data(), mask.data(), shape);
      attentionBackward(o[1].data(), o[2].data(), o[3].data(), scratch.data(),
                        dout.data(), q.data(), k.data(), v.data(), mask.data(),
                        shape, /*accumulate=*/true);
    });
}

} // namespace
} // namespace giga::kernels::test
