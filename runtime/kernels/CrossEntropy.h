//===- CrossEntropy.h - mean softmax cross-entropy --------------*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_CROSSENTROPY_H
#define GIGA_RUNTIME_KERNELS_CROSSENTROPY_H

#include <cstdint>

namespace giga::kernels {

/// Returns mean_i (logsumexp(logits[i, :]) - logits[i, targets[i]]) over n rows
/// of [n, vocab] logits (as F.cross_entropy with reduction='mean'), summed in
/// double. Saves logsumexp ([n]) for the backward. A target outside
/// [0, vocab) throws std::out_of_range.
float crossEntropyForward(float *logsumexp, const float *logits,
                          const int32_t *targets, int64_t n, int64_t vocab);

/// dlogits[i, j] (+)= dloss / n * (softmax(logits[i])[j] - (j == targets[i])),
/// where dloss is the gradient flowing into the loss (1 for a plain step, or
/// 1 / micro-batches).
void crossEntropyBackward(float *dlogits, const float *logits,
                          const float *logsumexp, const int32_t *targets,
                          float dloss, int64_t n, int64_t vocab,
                          bool accumulate);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_CROSSENTROPY_H
