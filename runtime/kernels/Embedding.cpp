//===- Embedding.cpp - token embeddings ----------------------------------===//

#include "runtime/kernels/Embedding.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace giga::kernels {

namespace {
void checkTokens(const int32_t *tokens, int64_t n, int64_t vocab,
                 const char *kernel) {
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw std::out_of_range(
          std::string(kernel) + ": token " + std::to_string(tokens[i]) +
          " at position " + std::to_string(i) +
          " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
}
} // namespace

void embeddingForward(float *out, const int32_t *tokens, const float *table,
                      int64_t n, int64_t vocab, int64_t channels) {
  checkTokens(tokens, n, vocab, "embedding.fwd");
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * channels, table + tokens[i] * channels,
                sizeof(float) * channels);
}

void embeddingBackward(float *dtable, const int32_t *tokens, const float *dout,
                       int64_t n, int64_t vocab, int64_t channels,
                       bool accumulate) {
  checkTokens(tokens, n, vocab, "embedding.bwd");
  if (!accumulate)
    std::memset(dtable, 0, sizeof(float) * vocab * channels);
  // Sequential over i so repeated tokens add up without races.
  for (int64_t i = 0; i < n; ++i) {
    float *row = dtable + tokens[i] * channels;
    const float *dy = dout + i * channels;
    for (int64_t c = 0; c < channels; ++c)
      row[c] += dy[c];
  }
}

} // namespace giga::kernels
