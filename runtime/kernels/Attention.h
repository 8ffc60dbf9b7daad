//===- Attention.h - masked self-attention ----------------------*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_ATTENTION_H
#define GIGA_RUNTIME_KERNELS_ATTENTION_H

#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/Softmax.h"

#include <cstdint>
#include <memory>

namespace giga::kernels {

struct AttentionShape {
  int64_t batch = 1;
  int64_t heads = 1;
  int64_t seqLen = 1;
  int64_t headDim = 1;
  /// Multiplies q.k; 0 selects 1 / sqrt(headDim).
  float scale = 0.0f;
  /// Of every matmul (the softmax stays fp32).
  MatmulPrecision precision = MatmulPrecision::F32;

  float effectiveScale() const;
  int64_t qkvSize() const { return batch * heads * seqLen * headDim; }
  /// Size of the saved probabilities and of the backward scratch.
  int64_t probsSize() const { return batch * heads * seqLen * seqLen; }
};

/// Attention for one AttentionShape with its matmul primitives created once
/// (see MatmulPlan): the forward's two at construction, the backward's four
/// too when asked for. Tensors as attentionForward/attentionBackward below,
/// which run an AttentionPlan from a per-thread cache. The run functions are
/// const and may be called from several threads at once.
class AttentionPlan {
public:
  /// Creates the plans for scale q k^T (alpha = shape.effectiveScale(),
  /// transB) and probs v, and with withBackward those for dv = P^T dout,
  /// dP = dout v^T, dq = scale dS k and dk = scale dS^T q. Throws what
  /// MatmulPlan throws.
  explicit AttentionPlan(const AttentionShape &shape,
                         bool withBackward = false);
  ~AttentionPlan();
  AttentionPlan(AttentionPlan &&) noexcept;
  AttentionPlan &operator=(AttentionPlan &&) noexcept;

  const AttentionShape &shape() const { return shape_; }
  bool hasBackward() const { return backward_ != nullptr; }

  /// probs = softmax(scale q k^T + mask), [B, H, T, T].
  void probabilities(float *probs, const float *q, const float *k,
                     const float *mask) const;
  /// probabilities(), then out = probs v.
  void forward(float *out, float *probs, const float *q, const float *k,
               const float *v, const float *mask) const;
  /// dq, dk, dv (+)= the gradients from dout, given the forward's probs;
  /// scratch holds shape().probsSize() floats. Needs withBackward (throws
  /// std::logic_error otherwise). The first call with accumulate = true
  /// creates the three accumulating matmul plans it uses (once, thread-safe).
  void backward(float *dq, float *dk, float *dv, float *scratch,
                const float *dout, const float *q, const float *k,
                const float *v, const float *probs, bool accumulate) const;

private:
  struct Backward;
  AttentionShape shape_;
  MatmulPlan scores_, weighted_;
  std::unique_ptr<Backward> backward_;
};

/// q, k, v, out: [B, H, T, D]; mask: [T, T], added to the scaled scores (0 to
/// keep, -inf to drop; the causal mask is -inf above the diagonal).
///   probs = softmax(scale * q k^T + mask)    [B, H, T, T], saved for backward
///   out   = probs v
void attentionForward(float *out, float *probs, const float *q, const float *k,
                      const float *v, const float *mask,
                      const AttentionShape &shape);

/// dq, dk, dv from dout. scratch holds shape.probsSize() floats. The mask is a
/// constant and gets no gradient.
void attentionBackward(float *dq, float *dk, float *dv, float *scratch,
                       const float *dout, const float *q, const float *k,
                       const float *v, const float *probs,
                       const AttentionShape &shape, bool accumulate);

/// Number of AttentionPlans in the calling thread's cache (for tests).
size_t attentionCacheSize();

/// The [T, T] causal mask: 0 on and below the diagonal, -inf above.
void fillCausalMask(float *mask, int64_t seqLen);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_ATTENTION_H
