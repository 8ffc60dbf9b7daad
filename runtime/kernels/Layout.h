//===- Layout.h - permutations, splits and concatenations -------*- C++ -*-===//
//
// Byte copies that rearrange dense row-major tensors of any element type:
// elementSize is the bytes per element (4 for f32 and i32, 8 for i64). They
// move bits only, so every result is exact.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_LAYOUT_H
#define GIGA_RUNTIME_KERNELS_LAYOUT_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace giga::kernels {

/// out[a, c, b, d] = inp[a, b, c, d] for inp of shape [d0, d1, d2, d3]; e.g.
/// [B, T, H, D] -> [B, H, T, D] for attention heads. Its own backward with
/// d1 and d2 swapped.
void swapAxes12(float *out, const float *inp, int64_t d0, int64_t d1,
                int64_t d2, int64_t d3);

/// A permutation copy out = transpose(in, permutation), planned once by
/// planPermutation() and run any number of times by permute(). Output dim i
/// is input dim permutation[i].
struct Permutation {
  int64_t elementSize = 0; ///< bytes per element
  int64_t count = 0;       ///< elements (0: permute() does nothing)
  /// 4-byte elements, rank 4, permutation {0, 2, 1, 3}: swapAxes12 over
  /// `dims`, the input shape.
  bool swapAxes12 = false;
  std::vector<int64_t> dims;
  /// The copy with its dims merged: output dim i of sizes.size() walks the
  /// input with stride strides[i] (in elements). Output dims that are
  /// adjacent in the input too are one, and size-1 dims are gone; no dims
  /// left (or one of stride 1) is a plain memcpy.
  std::vector<int64_t> sizes, strides;
};

/// Plans the copy of a tensor of `shape` into the shape permuted by
/// `permutation` (output dim i = input dim permutation[i]). Precondition:
/// permutation is a permutation of 0 .. shape.size() - 1, no dim is
/// negative and elements are 4 or 8 bytes, the artifact's dtypes (the caller
/// checks; this does not).
Permutation planPermutation(const std::vector<int64_t> &shape,
                            const std::vector<int64_t> &permutation,
                            int64_t elementSize);
/// Runs the plan: out (plan.count elements) must not overlap in.
void permute(const Permutation &plan, void *out, const void *in);

/// Splits `whole`, viewed as [outer, sum(partCols)], column-wise into
/// numParts parts of [outer, partCols[i]] (elements per outer row): part i
/// gets whole[o, offset_i : offset_i + partCols[i]] with offset_i the sum of
/// partCols before i. Splitting axis `a` of a row-major tensor is outer =
/// prod(shape[:a]), partCols[i] = part i's shape[a] * prod(shape[a+1:]).
void splitAxis(const void *whole, void *const *parts, const int64_t *partCols,
               size_t numParts, int64_t outer, int64_t elementSize);
/// The inverse of splitAxis: whole[o, offset_i : ...] = parts[i][o, :].
void concatAxis(void *whole, const void *const *parts, const int64_t *partCols,
                size_t numParts, int64_t outer, int64_t elementSize);

/// out[o, :] = in[o, offset : offset + outCols] for in viewed as
/// [outer, inCols]: a slice of one axis.
void sliceColumns(void *out, const void *in, int64_t outer, int64_t inCols,
                  int64_t outCols, int64_t offset, int64_t elementSize);

/// whole[o, offset : offset + partCols] = part[o, :] for whole viewed as
/// [outer, wholeCols]; the rest of whole is kept (a KV cache's new rows).
void writeColumns(void *whole, const void *part, int64_t outer,
                  int64_t wholeCols, int64_t partCols, int64_t offset,
                  int64_t elementSize);

} // namespace giga::kernels

#endif // GIGA_RUNTIME_KERNELS_LAYOUT_H
