//===- EmbeddingTest.cpp - token embeddings ------------------------------===//

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

} // namespace
} // namespace giga::kernels::test
