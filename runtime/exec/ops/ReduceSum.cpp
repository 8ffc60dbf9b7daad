//===- ReduceSum.cpp - the sum over leading dimensions --------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

class ReduceSum : public Op {
public:
  ReduceSum(int64_t rows, int64_t cols) : rows(rows), cols(cols) {}
  void run(const OpArgs &a) const override {
    kernels::sumRows(a.f32Out(0), a.f32In(0), rows, cols);
  }

private:
  int64_t rows, cols;
};

} // namespace

std::unique_ptr<Op> prepareReduceSum(OpContext &c) {
  c.operandCounts(1, 1);
  const OperandView &x = c.in(0), &y = c.out(0);
  c.dtype(x, "x", DType::F32);
  c.dtype(y, "result", DType::F32);
  if (!isSuffix(y.shape, x.shape))
    c.fail("result " + c.describe(y) + " must be a suffix of x's shape " +
           formatShape(x.shape));
  return std::make_unique<ReduceSum>(y.elements ? x.elements / y.elements : 0,
                                     y.elements);
}

} // namespace giga::exec::ops
