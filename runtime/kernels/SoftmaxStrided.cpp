//===- SoftmaxStrided.cpp - softmax along a middle axis -------------------===//
//
// Built with -ffp-contract=off (CMakeLists.txt): `dot += dy * y` must stay a
// multiply and an add, not become an FMA under -march with FMA, so that the
// result is the same on every machine and in every build (these loops moved
// here from the executor, which is built for generic x86-64). The loops are
// sequential (no `omp simd`), so the operation order is fixed too.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace giga::kernels {

void softmaxForwardStrided(float *out, const float *x, int64_t outer,
                           int64_t len, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float *xs = x + o * len * inner + i;
      float *ys = out + o * len * inner + i;
      float maxValue = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < len; ++j)
        maxValue = std::max(maxValue, xs[j * inner]);
      if (maxValue == -std::numeric_limits<float>::infinity()) {
        for (int64_t j = 0; j < len; ++j)
          ys[j * inner] = 0.0f;
        continue;
      }
      float sum = 0.0f;
      for (int64_t j = 0; j < len; ++j) {
        ys[j * inner] = std::exp(xs[j * inner] - maxValue);
        sum += ys[j * inner];
      }
      for (int64_t j = 0; j < len; ++j)
        ys[j * inner] /= sum;
    }
}

void softmaxBackwardStrided(float *dx, const float *y, const float *dy,
                            int64_t outer, int64_t len, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * len * inner + i;
      float dot = 0.0f;
      for (int64_t j = 0; j < len; ++j)
        dot += dy[base + j * inner] * y[base + j * inner];
      for (int64_t j = 0; j < len; ++j)
        dx[base + j * inner] =
            y[base + j * inner] * (dy[base + j * inner] - dot);
    }
}

} // namespace giga::kernels
