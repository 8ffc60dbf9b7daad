//===- LinearCrossEntropy.h - a linear layer fused with the loss -*- C++
//-*-===//
//
// loss = mean_i (logsumexp(z[i, :]) - z[i, targets[i]]) with z = x wᵀ, for
// x [n, c] and w [v, c] (a GPT's tied head: w is the token embedding), without
// ever holding z whole: [n, v] is 411 MB for GPT-2 at 2048 tokens, as much
// again for its gradient, and writing and reading them costs more than the
// arithmetic around them.
//
// The vocabulary goes in column chunks of z, small enough to stay in cache
// between the product that writes them and the pass that reads them. The
// loss keeps a running max and sum per row (online logsumexp). The gradient
// first does the same, then computes each chunk again, turns it into
// dz = dloss/n (softmax(z) - onehot) in place, adds dz w[chunk] into dx and
// writes dzᵀ x into the chunk's rows of dw. Only dx ([n, c], small) is
// accumulated over chunks.
//
// Chunking the rows instead, as Liger Kernel's GPU kernel does, makes one
// pass suffice (a chunk of rows holds every class), but on a CPU the
// [rows, v] chunk then lives in RAM, not cache, and dw is read and written
// once per chunk: measured slower here (docs/kernels.md).
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
  /// Of the matmuls (the logsumexp stays fp32).
  MatmulPrecision precision = MatmulPrecision::F32;

  int64_t chunks() const { return (classes + chunk - 1) / chunk; }
  /// Scratch floats: a chunk of logits, and per row the running max, the
  /// running sum and the target's logit.
  int64_t scratchFloats() const { return rows * chunk + 3 * rows; }
};

/// The matmul primitives for one shape, created once; run functions are const
/// and may be called from several threads at once. Targets must be in
/// [0, classes) (the caller checks).
class LinearCrossEntropyPlan {
public:
  /// Throws std::invalid_argument on a shape with a non-positive dimension or
  /// a chunk outside 1..classes.
  LinearCrossEntropyPlan(const LinearCrossEntropyShape &shape,
                         bool withBackward);
  const LinearCrossEntropyShape &shape() const { return shape_; }

  /// The mean loss, summed in double in row order. scratch: scratchFloats().
  float forward(float *scratch, const float *x, const float *w,
                const int32_t *targets) const;
  /// The same loss (the same bits), and dx [rows, channels] and dw [classes,
  /// channels] (+)= the gradients of dloss * loss. Needs withBackward.
  float forwardBackward(float *dx, float *dw, float *scratch, const float *x,
                        const float *w, const int32_t *targets, float dloss,
                        bool accumulate) const;

private:
  /// forward() with x already in the plans' precision (runConverted).
  float forward(float *scratch, const void *x, const float *w,
                const int32_t *targets) const;
  /// The products for one chunk width (the last chunk may be narrower).
  struct Chunk {
    int64_t width;
    MatmulPlan logits;          // z = x w[chunk]ᵀ          [rows, width]
    std::vector<MatmulPlan> dx; // dx = / += dz w[chunk]    (set, add)
    std::vector<MatmulPlan> dw; // dw[chunk] = / += dzᵀ x  (set, add)
  };
  const Chunk &chunkAt(int64_t index) const;

  LinearCrossEntropyShape shape_;
  std::vector<Chunk> widths_; // [full] or [full, last]
};

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_LINEARCROSSENTROPY_H
