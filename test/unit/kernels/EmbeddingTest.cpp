//===- EmbeddingTest.cpp - token and position embeddings ------------------===//

#include "runtime/kernels/Embedding.h"
#include "GradCheck.h"

#include <stdexcept>

namespace giga::kernels::test {
namespace {

TEST(Embedding, ForwardLooksUpRows) {
  const int64_t vocab = 101, channels = 48;
  std::vector<float> table = randomFloats(vocab * channels, 1);
  std::vector<int32_t> tokens = {0, 100, 7, 7};
  std::vector<float> out(tokens.size() * channels);
  embeddingForward(out.data(), tokens.data(), table.data(), tokens.size(),
                   vocab, channels);
  for (size_t i = 0; i < tokens.size(); ++i)
    for (int64_t c = 0; c < channels; ++c)
      ASSERT_EQ(out[i * channels + c], table[tokens[i] * channels + c]);
}

// The lookup is linear in the table, so its exact gradient is the scatter-add
// written out below; a kernel that overwrote instead of adding for the
// repeated token 3 would miss two of its three rows.
TEST(Embedding, BackwardScatterAddsRepeatedTokens) {
  const int64_t vocab = 5, channels = 3;
  std::vector<int32_t> tokens = {3, 1, 3, 3};
  std::vector<float> dout = randomFloats(tokens.size() * channels, 2);
  auto grads = runBackward({size_t(vocab * channels)}, [&](auto &g, bool acc) {
    embeddingBackward(g[0].data(), tokens.data(), dout.data(), tokens.size(),
                      vocab, channels, acc);
  });
  for (int64_t c = 0; c < channels; ++c) {
    EXPECT_FLOAT_EQ(grads[0][3 * channels + c], dout[0 * channels + c] +
                                                    dout[2 * channels + c] +
                                                    dout[3 * channels + c]);
    EXPECT_EQ(grads[0][1 * channels + c], dout[1 * channels + c]);
    EXPECT_EQ(grads[0][0 * channels + c], 0.0f);
  }
}

TEST(Embedding, OutOfRangeTokenIsAnErrorNotACrash) {
  std::vector<float> table(4 * 2), out(2 * 2);
  for (int32_t bad : {4, -1}) {
    std::vector<int32_t> tokens = {1, bad};
    EXPECT_THROW(
        embeddingForward(out.data(), tokens.data(), table.data(), 2, 4, 2),
        std::out_of_range);
    EXPECT_THROW(embeddingBackward(table.data(), tokens.data(), out.data(), 2,
                                   4, 2, false),
                 std::out_of_range);
  }
}

TEST(PositionEmbedding, ForwardAddsPositionsAndBackwardMatchesFiniteDiffs) {
  const int64_t batch = 3, seqLen = 17, channels = 48, maxLen = 20;
  std::vector<float> wpe = randomFloats(maxLen * channels, 3);
  std::vector<float> x = randomFloats(batch * seqLen * channels, 4);
  std::vector<float> y = x;
  positionEmbeddingForward(y.data(), wpe.data(), batch, seqLen, channels,
                           /*accumulate=*/true);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < seqLen * channels; ++i)
      ASSERT_EQ(y[b * seqLen * channels + i],
                x[b * seqLen * channels + i] + wpe[i]);
  positionEmbeddingForward(y.data(), wpe.data(), batch, seqLen, channels,
                           /*accumulate=*/false);
  EXPECT_EQ(y[seqLen * channels + 5], wpe[5]);

  std::vector<float> dy = randomFloats(y.size(), 5);
  auto grads = runBackward({size_t(seqLen * channels)}, [&](auto &g, bool acc) {
    positionEmbeddingBackward(g[0].data(), dy.data(), batch, seqLen, channels,
                              acc);
  });
  std::vector<double> dyD = toDouble(dy);
  auto loss = [&](const std::vector<double> &w) {
    double s = 0.0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < seqLen * channels; ++i)
        s += dyD[b * seqLen * channels + i] * w[i];
    return s;
  };
  std::vector<double> used(wpe.begin(), wpe.begin() + seqLen * channels);
  expectClose("dwpe", grads[0], numericGradient(loss, used), kGradTolerance);
}

} // namespace
} // namespace giga::kernels::test
