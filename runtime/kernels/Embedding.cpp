//===- Embedding.cpp - token embeddings ----------------------------------===//

#include "runtime/kernels/Embedding.h"
#include "runtime/kernels/Detail.h"
#include "runtime/kernels/Elementwise.h"

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
  detail::parallelRanges(
      n, detail::minRowsPerThread(channels), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          std::memcpy(out + i * channels, table + tokens[i] * channels,
                      sizeof(float) * channels);
      });
}

void embeddingBackward(float *dtable, const int32_t *tokens, const float *dout,
                       int64_t n, int64_t vocab, int64_t channels,
                       bool accumulate) {
  checkTokens(tokens, n, vocab, "embedding.bwd");
  if (!accumulate)
    fill(dtable, vocab * channels, 0.0f);
  // Threads own columns and go over the positions in order, so repeated
  // tokens add up without races, in the same order whatever the threads.
  detail::parallelRanges(channels, detail::minColsPerThread(n),
                         [&](int64_t begin, int64_t end) {
                           for (int64_t i = 0; i < n; ++i) {
                             float *row = dtable + tokens[i] * channels;
                             const float *dy = dout + i * channels;
                             for (int64_t c = begin; c < end; ++c)
                               row[c] += dy[c];
                           }
                         });
}

} // namespace giga::kernels
