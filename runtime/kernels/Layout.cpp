//===- Layout.cpp - permutations, splits and concatenations ---------------===//

#include "runtime/kernels/Layout.h"
#include "runtime/kernels/Detail.h"

#include <cstring>

namespace giga::kernels {

void swapAxes12(float *out, const float *inp, int64_t d0, int64_t d1,
                int64_t d2, int64_t d3) {
  // Input rows [a, b] split over the threads; each writes d2 runs of d3.
  detail::parallelRanges(d0 * d1, detail::minRowsPerThread(d2 * d3),
                         [&](int64_t begin, int64_t end) {
                           for (int64_t row = begin; row < end; ++row) {
                             int64_t a = row / d1, b = row % d1;
                             for (int64_t c = 0; c < d2; ++c)
                               std::memcpy(out + ((a * d2 + c) * d1 + b) * d3,
                                           inp + ((a * d1 + b) * d2 + c) * d3,
                                           sizeof(float) * d3);
                           }
                         });
}

Permutation planPermutation(const std::vector<int64_t> &shape,
                            const std::vector<int64_t> &permutation,
                            int64_t elementSize) {
  Permutation plan;
  size_t rank = shape.size();
  plan.elementSize = elementSize;
  plan.count = 1;
  for (int64_t dim : shape)
    plan.count *= dim;
  plan.swapAxes12 = elementSize == 4 && rank == 4 &&
                    permutation == std::vector<int64_t>{0, 2, 1, 3};
  plan.dims = shape;

  // Output dim i walks the input with stride inStrides[permutation[i]]; an
  // output dim that follows its predecessor in the input too merges into it.
  std::vector<int64_t> inStrides(rank, 1);
  for (size_t i = rank; i-- > 1;)
    inStrides[i - 1] = inStrides[i] * shape[i];
  int64_t previous = -2;
  for (size_t i = 0; i < rank; ++i) {
    int64_t dim = permutation[i];
    if (shape[dim] == 1)
      continue;
    if (!plan.sizes.empty() && dim == previous + 1 &&
        plan.strides.back() == inStrides[dim] * shape[dim]) {
      plan.sizes.back() *= shape[dim];
      plan.strides.back() = inStrides[dim];
    } else {
      plan.sizes.push_back(shape[dim]);
      plan.strides.push_back(inStrides[dim]);
    }
    previous = dim;
  }
  return plan;
}

namespace {

/// One element at a time, odometer order over sizes; T is an integer type of
/// the element's size (so any bit pattern, NaN included, copies exactly).
template <typename T>
void gather(char *out, const char *in, const std::vector<int64_t> &sizes,
            const std::vector<int64_t> &strides) {
  T *dst = reinterpret_cast<T *>(out);
  const T *src = reinterpret_cast<const T *>(in);
  size_t rank = sizes.size();
  std::vector<int64_t> index(rank, 0);
  int64_t last = sizes.back(), lastStride = strides.back();
  int64_t offset = 0;
  while (true) {
    for (int64_t i = 0; i < last; ++i)
      *dst++ = src[offset + i * lastStride];
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      offset += strides[d];
      if (++index[d] < sizes[d])
        break;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
      if (d == 0)
        return;
    }
    if (rank == 1)
      return;
  }
}

} // namespace

void permute(const Permutation &plan, void *outPtr, const void *inPtr) {
  char *out = static_cast<char *>(outPtr);
  const char *in = static_cast<const char *>(inPtr);
  if (plan.count == 0)
    return;
  if (plan.swapAxes12) {
    const std::vector<int64_t> &d = plan.dims;
    swapAxes12(reinterpret_cast<float *>(out),
               reinterpret_cast<const float *>(in), d[0], d[1], d[2], d[3]);
    return;
  }
  const std::vector<int64_t> &sizes = plan.sizes, &strides = plan.strides;
  size_t rank = sizes.size();
  int64_t es = plan.elementSize;
  if (rank == 0 || (rank == 1 && strides[0] == 1)) {
    std::memcpy(out, in, plan.count * es);
    return;
  }
  if (strides.back() == 1) {
    // Runs of sizes.back() contiguous elements (the [B,T,H,D] <-> [B,H,T,D]
    // case copies rows of D).
    int64_t run = sizes.back() * es;
    std::vector<int64_t> index(rank - 1, 0);
    int64_t offset = 0;
    int64_t runs = plan.count / sizes.back();
    for (int64_t r = 0; r < runs; ++r) {
      std::memcpy(out + r * run, in + offset * es, run);
      for (size_t d = rank - 1; d-- > 0;) {
        offset += strides[d];
        if (++index[d] < sizes[d])
          break;
        offset -= strides[d] * sizes[d];
        index[d] = 0;
      }
    }
    return;
  }
  if (es == 8)
    gather<int64_t>(out, in, sizes, strides);
  else
    gather<int32_t>(out, in, sizes, strides);
}

namespace {
int64_t totalCols(const int64_t *partCols, size_t numParts) {
  int64_t cols = 0;
  for (size_t i = 0; i < numParts; ++i)
    cols += partCols[i];
  return cols;
}
} // namespace

void splitAxis(const void *whole, void *const *parts, const int64_t *partCols,
               size_t numParts, int64_t outer, int64_t elementSize) {
  const char *src = static_cast<const char *>(whole);
  int64_t cols = totalCols(partCols, numParts), es = elementSize;
  for (int64_t o = 0; o < outer; ++o) {
    int64_t offset = o * cols;
    for (size_t i = 0; i < numParts; ++i) {
      // An empty part may have no buffer, and memcpy's pointers must be
      // valid even for 0 bytes.
      if (partCols[i] > 0)
        std::memcpy(static_cast<char *>(parts[i]) + o * partCols[i] * es,
                    src + offset * es, partCols[i] * es);
      offset += partCols[i];
    }
  }
}

void concatAxis(void *whole, const void *const *parts, const int64_t *partCols,
                size_t numParts, int64_t outer, int64_t elementSize) {
  char *dst = static_cast<char *>(whole);
  int64_t cols = totalCols(partCols, numParts), es = elementSize;
  for (int64_t o = 0; o < outer; ++o) {
    int64_t offset = o * cols;
    for (size_t i = 0; i < numParts; ++i) {
      if (partCols[i] > 0)
        std::memcpy(dst + offset * es,
                    static_cast<const char *>(parts[i]) + o * partCols[i] * es,
                    partCols[i] * es);
      offset += partCols[i];
    }
  }
}

void sliceColumns(void *out, const void *in, int64_t outer, int64_t inCols,
                  int64_t outCols, int64_t offset, int64_t elementSize) {
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(static_cast<char *>(out) + o * outCols * elementSize,
                static_cast<const char *>(in) +
                    (o * inCols + offset) * elementSize,
                outCols * elementSize);
}

void writeColumns(void *whole, const void *part, int64_t outer,
                  int64_t wholeCols, int64_t partCols, int64_t offset,
                  int64_t elementSize) {
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(static_cast<char *>(whole) +
                    (o * wholeCols + offset) * elementSize,
                static_cast<const char *>(part) + o * partCols * elementSize,
                partCols * elementSize);
}

} // namespace giga::kernels
