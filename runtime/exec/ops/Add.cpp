//===- Add.cpp - add with a suffix broadcast ------------------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

/// out[r, c] = lhs[r, c] + rhs[c], rhs being lhs's shape or a suffix of it.
class Add : public Op {
public:
  Add(int64_t rows, int64_t cols) : rows(rows), cols(cols) {}
  void run(const OpArgs &a) const override {
    kernels::addBroadcast(a.f32Out(0), a.f32In(0), a.f32In(1), rows, cols);
  }

private:
  int64_t rows, cols;
};

} // namespace

std::unique_ptr<Op> prepareAdd(OpContext &c) {
  c.operandCounts(2, 1);
  const OperandView &lhs = c.in(0), &rhs = c.in(1);
  c.dtype(lhs, "lhs", DType::F32);
  c.dtype(rhs, "rhs", DType::F32);
  c.dtype(c.out(0), "result", DType::F32);
  if (!isSuffix(rhs.shape, lhs.shape))
    c.fail("rhs " + c.describe(rhs) + " must have lhs's shape " +
           formatShape(lhs.shape) + " or a suffix of it");
  c.shape(c.out(0), "result", lhs.shape);
  int64_t cols = rhs.elements;
  auto op = std::make_unique<Add>(cols ? lhs.elements / cols : 0, cols);
  op->inPlace = {{0}};
  if (rhs.shape == lhs.shape)
    op->inPlace[0].push_back(1);
  return op;
}

} // namespace giga::exec::ops
