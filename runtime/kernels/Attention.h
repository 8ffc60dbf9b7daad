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
  int64_t seqLen = 1; // queries
  int64_t headDim = 1;
  /// Multiplies q.k; 0 selects 1 / sqrt(headDim).
  float scale = 0.0f;
  /// Of every matmul (the softmax stays fp32).
  MatmulPrecision precision = MatmulPrecision::F32;
  /// Query rows each head works on at a time (capped at seqLen): the scores
  /// of one block of rows are all that is ever held, and the keys after the
  /// block's last kept column are never multiplied.
  int64_t queryBlock = 64;
  /// Keys (and values) per head; 0: seqLen, as in self-attention. A decode
  /// step attends from 1 query over the whole cache.
  int64_t keys = 0;

  float effectiveScale() const;
  int64_t block() const;
  int64_t keyLen() const { return keys > 0 ? keys : seqLen; }
  /// Floats of q, out and dq ([B, H, seqLen, D]).
  int64_t qkvSize() const { return batch * heads * seqLen * headDim; }
  /// Floats of k, v, dk and dv ([B, H, keyLen(), D]).
  int64_t kvSize() const { return batch * heads * keyLen() * headDim; }
  /// Floats of scratch forward needs (one block of scores per head);
  /// backward needs twice as many (the block's probabilities and their
  /// gradient).
  int64_t scratchSize() const { return batch * heads * block() * keyLen(); }
};

/// Blocked ("flash-style") attention for one AttentionShape. Each head is
/// one task, and the B*H heads run in parallel. A head walks its queries a
/// block at a time: the block's scores against every key up to the last one
/// the mask keeps for its rows (rounded up to a whole block), then the exact
/// softmax of those full rows, then the products that use them. Under the
/// causal mask the blocks above the diagonal are skipped, about half the
/// work at long T, and nothing [T, T] is ever stored: backward recomputes
/// each block's probabilities from q and k instead of saving them (as
/// FlashAttention's does). A block's rows fit in cache at every T a GPT
/// uses (64 x T floats), so no online rescaling across key blocks is
/// needed; docs/kernels.md has the measurements.
///
/// The matmul primitives are created at construction for the causal mask's
/// blocks, and on first use for another mask's (once per shape, shared by
/// every plan in the process). The run functions are const and may be called
/// from several threads at once.
class AttentionPlan {
public:
  /// Throws std::invalid_argument for a non-positive size or block, and
  /// what MatmulPlan throws.
  explicit AttentionPlan(const AttentionShape &shape,
                         bool withBackward = false);
  ~AttentionPlan();
  AttentionPlan(AttentionPlan &&) noexcept;
  AttentionPlan &operator=(AttentionPlan &&) noexcept;

  const AttentionShape &shape() const { return shape_; }
  bool hasBackward() const { return withBackward_; }

  /// out = softmax(scale q k^T + mask) v; scratch holds
  /// shape().scratchSize() floats.
  void forward(float *out, float *scratch, const float *q, const float *k,
               const float *v, const float *mask) const;
  /// dq, dk, dv (+)= the gradients from dout; scratch holds
  /// 2 * shape().scratchSize() floats. Needs withBackward (throws
  /// std::logic_error otherwise).
  void backward(float *dq, float *dk, float *dv, float *scratch,
                const float *dout, const float *q, const float *k,
                const float *v, const float *mask, bool accumulate) const;

private:
  struct Products;
  AttentionShape shape_;
  bool withBackward_;
  std::unique_ptr<Products> products_;
};

/// q, out: [B, H, T, D]; k, v: [B, H, Tk, D] (Tk = shape.keyLen()); mask:
/// [T, Tk], added to the scaled scores (0 to keep, -inf to drop; the causal
/// mask is -inf above the diagonal).
///   out = softmax(scale * q k^T + mask) v
/// scratch holds shape.scratchSize() floats.
void attentionForward(float *out, float *scratch, const float *q,
                      const float *k, const float *v, const float *mask,
                      const AttentionShape &shape);

/// dq (like q), dk, dv (like k) from dout. scratch holds
/// 2 * shape.scratchSize() floats. The mask is a constant and gets no
/// gradient.
void attentionBackward(float *dq, float *dk, float *dv, float *scratch,
                       const float *dout, const float *q, const float *k,
                       const float *v, const float *mask,
                       const AttentionShape &shape, bool accumulate);

/// Number of AttentionPlans in the calling thread's cache (for tests).
size_t attentionCacheSize();

/// The [T, T] causal mask: 0 on and below the diagonal, -inf above.
void fillCausalMask(float *mask, int64_t seqLen);

/// The mask [queries, keys] of queries at positions start, start+1, ...
/// over a cache of keys: 0 where key j <= start + i, -inf elsewhere.
void fillPositionMask(float *mask, int64_t queries, int64_t keys,
                      int64_t start);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_ATTENTION_H
