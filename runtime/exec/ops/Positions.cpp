//===- Positions.cpp - positions and position_mask ------------------------===//
//
// Where a generation step's chunk of tokens sits: its position ids and the
// mask of what each of its queries may see in the KV cache, both from the
// start position the entry point is given.
//
//===----------------------------------------------------------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Elementwise.h"

#include <limits>

namespace giga::exec::ops {
namespace {

/// The start position, read at run time: non-negative, and with `count`
/// positions after it still an int32.
int32_t startOf(const Op &op, const OpArgs &a, int64_t count) {
  int32_t start = a.i32In(0)[0];
  if (start < 0 || int64_t(start) + count > std::numeric_limits<int32_t>::max())
    op.fail(a.layer, "start position " + std::to_string(start) +
                         " is negative or too large");
  return start;
}

class Positions : public Op {
public:
  explicit Positions(int64_t count) : count(count) {}
  void run(const OpArgs &a) const override {
    kernels::iota(static_cast<int32_t *>(a.out[0]), count,
                  startOf(*this, a, count));
  }

private:
  int64_t count;
};

class PositionMask : public Op {
public:
  PositionMask(int64_t queries, int64_t keys) : queries(queries), keys(keys) {}
  void run(const OpArgs &a) const override {
    kernels::fillPositionMask(a.f32Out(0), queries, keys,
                              startOf(*this, a, queries));
  }

private:
  int64_t queries, keys;
};

void checkStart(const OpContext &c) {
  c.dtype(c.in(0), "start", DType::I32);
  c.shape(c.in(0), "start", {1});
}

} // namespace

std::unique_ptr<Op> preparePositions(OpContext &c) {
  c.operandCounts(1, 1);
  checkStart(c);
  c.dtype(c.out(0), "result", DType::I32);
  if (c.out(0).shape.size() != 1)
    c.fail("result must be i32 [N], got " + c.describe(c.out(0)));
  return std::make_unique<Positions>(c.out(0).elements);
}

std::unique_ptr<Op> preparePositionMask(OpContext &c) {
  c.operandCounts(1, 1);
  checkStart(c);
  const OperandView &out = c.out(0);
  c.dtype(out, "result", DType::F32);
  if (out.shape.size() != 2 || out.shape[0] > out.shape[1])
    c.fail("result must be [S, Tk] with S <= Tk, got " + c.describe(out));
  return std::make_unique<PositionMask>(out.shape[0], out.shape[1]);
}

} // namespace giga::exec::ops
