//===- LinearCrossEntropy.h - a linear layer fused with the loss -*- C++
//-*-===//
//
// loss = mean_i (logsumexp(z[i, :]) - z[i, targets[i]]) with z = x wᵀ, for
// x [n, c] and w [v, c] (a GPT's tied head: w is the token embedding), without
// ever holding z whole: [n, v] is 411 MB for GPT-2 at 2048 tokens, and
// writing and reading it costs more than the arithmetic around it.
//
// The vocabulary goes in column chunks of z. Forward keeps a running max and
// sum per row (online logsumexp) and saves logsumexp [n]. Backward computes
// each chunk of z again, turns it into dz in place, then adds dz w[chunk] into
// dx and writes dz ᵀ x into the chunk's rows of dw: no gradient is
// accumulated over chunks but dx ([n, c], small). Chunking the rows instead
// (as Liger's GPU kernel does) would add every chunk's [v, c] product into dw,
// moving all of dw through memory once per chunk.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_LINEARCROSSENTROPY_H
#define GIGA_RUNTIME_KERNELS_LINEARCROSSENTROPY_H

#include "runtime/kernels/Matmul.h"

#include <cstdint>
#include <vector>

namespace giga::kernels {

struct LinearCrossEntropyShape {
  int64_t rows = 0;     ///< n: tokens
  int64_t channels = 0; ///< c: the input's width
  int64_t classes = 0;  ///< v: the vocabulary
  int64_t chunk = 0;    ///< vocabulary columns per chunk, 1..classes

  int64_t chunks() const { return (classes + chunk - 1) / chunk; }
  /// Scratch floats of forward (the chunk, running max, sum, target logit).
  int64_t forwardScratch() const { return rows * chunk + 3 * rows; }
  /// Scratch floats of backward (the chunk).
  int64_t backwardScratch() const { return rows * chunk; }
};

/// The matmul primitives for one shape, created once; run functions are const
/// and may be called from several threads at once. Targets must be in
/// [0, classes) (the caller checks).
class LinearCrossEntropyPlan {
public:
  /// Throws std::invalid_argument on a shape with a non-positive dimension or
  /// chunk outside 1..classes.
  LinearCrossEntropyPlan(const LinearCrossEntropyShape &shape,
                         bool withBackward);
  const LinearCrossEntropyShape &shape() const { return shape_; }

  /// Returns the mean loss (summed in double in row order); saves
  /// logsumexp [rows] for backward. scratch: forwardScratch() floats.
  float forward(float *logsumexp, float *scratch, const float *x,
                const float *w, const int32_t *targets) const;
  /// dx [rows, channels] and dw [classes, channels] (+)= the gradients of
  /// dloss * loss. scratch: backwardScratch() floats. Needs withBackward.
  void backward(float *dx, float *dw, float *scratch, const float *x,
                const float *w, const int32_t *targets, const float *logsumexp,
                float dloss, bool accumulate) const;

private:
  /// The products for one chunk width (the last chunk may be narrower).
  struct Chunk {
    int64_t width;
    MatmulPlan logits;          // z = x w[chunk]ᵀ          [rows, width]
    std::vector<MatmulPlan> dx; // dx = / += dz w[chunk]   (set, add)
    std::vector<MatmulPlan> dw; // dw[chunk] = / += dzᵀ x  (set, add)
  };
  const Chunk &chunkAt(int64_t index) const;

  LinearCrossEntropyShape shape_;
  std::vector<Chunk> widths_; // [full] or [full, last]
};

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_LINEARCROSSENTROPY_H
