//===- Attention.cpp - softmax and masked self-attention ------------------===//

#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Detail.h"
#include "runtime/kernels/Matmul.h"

#include <cmath>
#include <limits>

namespace giga::kernels {

namespace {
void softmaxRow(float *y, const float *x, int64_t cols) {
  float maxValue = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : maxValue)
  for (int64_t c = 0; c < cols; ++c)
    maxValue = x[c] > maxValue ? x[c] : maxValue;
  if (maxValue == -std::numeric_limits<float>::infinity()) {
    // Fully masked: exp(-inf - -inf) would be NaN.
    for (int64_t c = 0; c < cols; ++c)
      y[c] = 0.0f;
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < cols; ++c) {
    y[c] = detail::fastExp(x[c] - maxValue);
    sum += y[c];
  }
  float inv = 1.0f / sum;
  for (int64_t c = 0; c < cols; ++c)
    y[c] *= inv;
}

// dx = y (dy - <dy, y>); dx may alias dy.
void softmaxBackwardRow(float *dx, const float *y, const float *dy,
                        int64_t cols, bool accumulate) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t c = 0; c < cols; ++c)
    dot += dy[c] * y[c];
  detail::storeOrAdd(dx, cols, accumulate,
                     [&](int64_t c) { return y[c] * (dy[c] - dot); });
}
} // namespace

void softmaxForward(float *out, const float *inp, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    softmaxRow(out + r * cols, inp + r * cols, cols);
}

void softmaxBackward(float *dinp, const float *out, const float *dout,
                     int64_t rows, int64_t cols, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r)
    softmaxBackwardRow(dinp + r * cols, out + r * cols, dout + r * cols, cols,
                       accumulate);
}

float AttentionShape::effectiveScale() const {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(static_cast<float>(headDim));
}

void fillCausalMask(float *mask, int64_t seqLen) {
  for (int64_t i = 0; i < seqLen; ++i)
    for (int64_t j = 0; j < seqLen; ++j)
      mask[i * seqLen + j] =
          j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
}

// The big products go through oneDNN with the batch of B*H heads; the full
// T x T scores are computed even though the causal mask drops half of them,
// because one batched GEMM beats T small triangular ones on this CPU.
void attentionForward(float *out, float *probs, const float *q, const float *k,
                      const float *v, const float *mask,
                      const AttentionShape &shape) {
  int64_t heads = shape.batch * shape.heads;
  int64_t t = shape.seqLen;
  int64_t d = shape.headDim;

  MatmulShape scores{heads, t, t, d};
  scores.transB = true;
  scores.alpha = shape.effectiveScale();
  matmul(scores, q, k, probs);

  for (int64_t h = 0; h < heads; ++h) {
    float *p = probs + h * t * t;
    for (int64_t i = 0; i < t * t; ++i)
      p[i] += mask[i];
    softmaxForward(p, p, t, t);
  }

  MatmulShape weighted{heads, t, d, t};
  matmul(weighted, probs, v, out);
}

void attentionBackward(float *dq, float *dk, float *dv, float *scratch,
                       const float *dout, const float *q, const float *k,
                       const float *v, const float *probs,
                       const AttentionShape &shape, bool accumulate) {
  int64_t heads = shape.batch * shape.heads;
  int64_t t = shape.seqLen;
  int64_t d = shape.headDim;
  float scale = shape.effectiveScale();

  // dv = P^T dout
  MatmulShape dvShape{heads, t, d, t};
  dvShape.transA = true;
  dvShape.accumulate = accumulate;
  matmul(dvShape, probs, dout, dv);

  // dP = dout v^T, then dS = softmax backward of dP, in place in scratch.
  // Masked entries have P = 0 and so get dS = 0.
  MatmulShape dpShape{heads, t, t, d};
  dpShape.transB = true;
  matmul(dpShape, dout, v, scratch);
  softmaxBackward(scratch, probs, scratch, heads * t, t, /*accumulate=*/false);

  // S = scale q k^T:  dq = scale dS k,  dk = scale dS^T q.
  MatmulShape dqShape{heads, t, d, t};
  dqShape.alpha = scale;
  dqShape.accumulate = accumulate;
  matmul(dqShape, scratch, k, dq);

  MatmulShape dkShape = dqShape;
  dkShape.transA = true;
  matmul(dkShape, scratch, q, dk);
}

} // namespace giga::kernels
