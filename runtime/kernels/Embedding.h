//===- Embedding.h - token embeddings ---------------------------*- C++ -*-===//
//
// Token ids are int32. An id outside [0, vocab) throws std::out_of_range
// naming the position and the id, rather than reading out of bounds.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_EMBEDDING_H
#define GIGA_RUNTIME_KERNELS_EMBEDDING_H

#include <cstdint>

namespace giga::kernels {

/// out[i, :] = table[tokens[i], :]; table is [vocab, channels], out [n, ...].
void embeddingForward(float *out, const int32_t *tokens, const float *table,
                      int64_t n, int64_t vocab, int64_t channels);
/// dtable[tokens[i], :] += dout[i, :] for every i (a token seen twice gets
/// both rows). Without accumulate, dtable is zeroed first.
void embeddingBackward(float *dtable, const int32_t *tokens, const float *dout,
                       int64_t n, int64_t vocab, int64_t channels,
                       bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_EMBEDDING_H
