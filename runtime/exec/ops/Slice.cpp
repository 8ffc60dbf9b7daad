//===- Slice.cpp - a contiguous range of one axis
//--------------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Layout.h"

namespace giga::exec::ops {
namespace {

/// x as [outer, n·inner] rows; the result takes `cols` of each from
/// `offset`.
class Slice : public Op {
public:
  Slice(int64_t outer, int64_t inCols, int64_t outCols, int64_t offset,
        int64_t elementSize)
      : outer(outer), inCols(inCols), outCols(outCols), offset(offset),
        elementSize(elementSize) {}
  void run(const OpArgs &a) const override {
    kernels::sliceColumns(a.out[0], a.in[0], outer, inCols, outCols, offset,
                          elementSize);
  }

private:
  int64_t outer, inCols, outCols, offset, elementSize;
};

} // namespace

std::unique_ptr<Op> prepareSlice(OpContext &c) {
  c.operandCounts(1, 1);
  const OperandView &in = c.in(0), &out = c.out(0);
  c.sameDtype(in, "input", out, "result");
  size_t rank = in.shape.size();
  if (rank == 0 || out.shape.size() != rank)
    c.fail("result " + c.describe(out) + " must have the rank of the input " +
           c.describe(in) + ", at least 1");
  int64_t axis = c.axis(artifact::attr::kSliceAxis, rank);
  int64_t start = c.integer(artifact::attr::kSliceStart);
  for (size_t d = 0; d < rank; ++d)
    if (int64_t(d) != axis && in.shape[d] != out.shape[d])
      c.fail("result " + c.describe(out) + " differs from the input " +
             c.describe(in) + " outside axis " + std::to_string(axis));
  if (start < 0 || start + out.shape[axis] > in.shape[axis])
    c.fail("start " + std::to_string(start) + " and " +
           std::to_string(out.shape[axis]) + " indices do not fit axis " +
           std::to_string(axis) + " of " + c.describe(in));
  int64_t inner = product(in.shape, axis + 1, rank);
  return std::make_unique<Slice>(
      product(in.shape, 0, axis), in.shape[axis] * inner,
      out.shape[axis] * inner, start * inner, artifact::sizeOf(in.dtype));
}

} // namespace giga::exec::ops
