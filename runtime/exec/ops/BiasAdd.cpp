//===- BiasAdd.cpp - a bias over the last dimension -----------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

class BiasAdd : public Op {
public:
  BiasAdd(int64_t rows, int64_t cols) : rows(rows), cols(cols) {}
  void run(const OpArgs &a) const override {
    kernels::biasAddForward(a.f32Out(0), a.f32In(0), a.f32In(1), rows, cols);
  }

private:
  int64_t rows, cols;
};

} // namespace

std::unique_ptr<Op> prepareBiasAdd(OpContext &c) {
  c.operandCounts(2, 1);
  const OperandView &x = c.in(0), &bias = c.in(1);
  c.dtype(x, "x", DType::F32);
  c.dtype(bias, "bias", DType::F32);
  c.dtype(c.out(0), "result", DType::F32);
  c.minRank(x, "x", 1);
  c.shape(bias, "bias", {x.shape.back()});
  c.shape(c.out(0), "result", x.shape);
  int64_t cols = x.shape.back();
  auto op = std::make_unique<BiasAdd>(cols ? x.elements / cols : 0, cols);
  op->inPlace = {{0}};
  return op;
}

} // namespace giga::exec::ops
