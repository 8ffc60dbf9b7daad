//===- Attention.h - softmax and masked self-attention ----------*- C++ -*-===//
#ifndef GIGA_RUNTIME_KERNELS_ATTENTION_H
#define GIGA_RUNTIME_KERNELS_ATTENTION_H

#include <cstdint>

namespace giga::kernels {

/// out[r, :] = softmax(inp[r, :]) over [rows, cols]. -inf entries give 0; a
/// row that is entirely -inf gives 0 (not NaN).
void softmaxForward(float *out, const float *inp, int64_t rows, int64_t cols);
/// dinp = out * (dout - sum(dout * out)) per row.
void softmaxBackward(float *dinp, const float *out, const float *dout,
                     int64_t rows, int64_t cols, bool accumulate);

struct AttentionShape {
  int64_t batch = 1;
  int64_t heads = 1;
  int64_t seqLen = 1;
  int64_t headDim = 1;
  /// Multiplies q.k; 0 selects 1 / sqrt(headDim).
  float scale = 0.0f;

  float effectiveScale() const;
  int64_t qkvSize() const { return batch * heads * seqLen * headDim; }
  /// Size of the saved probabilities and of the backward scratch.
  int64_t probsSize() const { return batch * heads * seqLen * seqLen; }
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

/// The [T, T] causal mask: 0 on and below the diagonal, -inf above.
void fillCausalMask(float *mask, int64_t seqLen);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_ATTENTION_H
