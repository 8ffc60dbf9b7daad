//===- Embedding.cpp - token and position embeddings ----------------------===//

#include "runtime/kernels/Embedding.h"
#include "runtime/kernels/Detail.h"

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

void positionEmbeddingForward(float *out, const float *wpe, int64_t batch,
                              int64_t seqLen, int64_t channels,
                              bool accumulate) {
  int64_t rowSize = seqLen * channels;
  for (int64_t b = 0; b < batch; ++b)
    detail::storeOrAdd(out + b * rowSize, rowSize, accumulate,
                       [&](int64_t i) { return wpe[i]; });
}

void positionEmbeddingBackward(float *dwpe, const float *dout, int64_t batch,
                               int64_t seqLen, int64_t channels,
                               bool accumulate) {
  int64_t rowSize = seqLen * channels;
  if (!accumulate)
    std::memset(dwpe, 0, sizeof(float) * rowSize);
  for (int64_t b = 0; b < batch; ++b) {
    const float *dy = dout + b * rowSize;
    for (int64_t i = 0; i < rowSize; ++i)
      dwpe[i] += dy[i];
  }
}

} // namespace giga::kernels
