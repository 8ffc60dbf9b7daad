//===- Matmul.cpp - matmul through a shared oneDNN plan -------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

class Matmul : public Op {
public:
  Matmul(const kernels::MatmulPlan *plan, int64_t resultElements)
      : plan(plan), resultElements(resultElements) {}
  void run(const OpArgs &a) const override {
    if (plan)
      plan->run(a.f32In(0), a.f32In(1), a.f32Out(0), a.inBf16[0], a.inBf16[1]);
    else // an empty contraction: the result is zeros
      kernels::fill(a.f32Out(0), resultElements, 0.0f);
  }

private:
  const kernels::MatmulPlan *plan; // null: nothing to multiply
  int64_t resultElements;
};

std::vector<int64_t> dropLast(std::vector<int64_t> shape, size_t n) {
  shape.resize(shape.size() - n);
  return shape;
}

} // namespace

std::unique_ptr<Op> prepareMatmul(OpContext &c) {
  using namespace artifact::attr;
  c.operandCounts(2, 1);
  const OperandView &lhs = c.in(0), &rhs = c.in(1), &out = c.out(0);
  c.dtype(lhs, "lhs", DType::F32);
  c.dtype(rhs, "rhs", DType::F32);
  c.dtype(out, "result", DType::F32);
  c.minRank(lhs, "lhs", 2);
  c.minRank(rhs, "rhs", 2);
  bool transA = c.flag(kMatmulTransposeLhs);
  bool transB = c.flag(kMatmulTransposeRhs);
  size_t lr = lhs.shape.size(), rr = rhs.shape.size();
  int64_t m = lhs.shape[lr - 2], k = lhs.shape[lr - 1];
  if (transA)
    std::swap(m, k);
  int64_t rk = rhs.shape[rr - 2], n = rhs.shape[rr - 1];
  if (transB)
    std::swap(rk, n);
  if (k != rk)
    c.fail("contraction dimensions differ: lhs " + c.describe(lhs) + " has " +
           std::to_string(k) + ", rhs " + c.describe(rhs) + " has " +
           std::to_string(rk) + " (" + kMatmulTransposeLhs + "=" +
           (transA ? "true" : "false") + ", " + kMatmulTransposeRhs + "=" +
           (transB ? "true" : "false") + ")");
  std::vector<int64_t> batchDims = dropLast(lhs.shape, 2);
  bool shared = rr == 2;
  if (!shared && dropLast(rhs.shape, 2) != batchDims)
    c.fail("rhs batch dimensions of " + c.describe(rhs) +
           " must equal lhs batch dimensions " + formatShape(batchDims) +
           " or be absent (a shared rank-2 rhs)");
  std::vector<int64_t> expected = batchDims;
  expected.push_back(m);
  expected.push_back(n);
  c.shape(out, "result", expected);
  if (out.elements == 0 || k == 0)
    return std::make_unique<Matmul>(nullptr, out.elements);

  int64_t batch = product(batchDims, 0, batchDims.size());
  kernels::MatmulShape shape;
  shape.n = n;
  shape.k = k;
  shape.transB = transB;
  if (shared && !transA) { // one big GEMM: [batch*m, k] x [k, n]
    shape.m = batch * m;
  } else {
    shape.batch = batch;
    shape.m = m;
    shape.transA = transA;
    shape.broadcastB = shared && batch > 1;
  }
  return std::make_unique<Matmul>(c.matmulPlan(shape), out.elements);
}

} // namespace giga::exec::ops
