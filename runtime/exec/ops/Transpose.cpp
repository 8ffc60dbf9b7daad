//===- Transpose.cpp - a permutation of dimensions, any dtype -------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Layout.h"

namespace giga::exec::ops {
namespace {

class Transpose : public Op {
public:
  explicit Transpose(kernels::Permutation plan) : plan(std::move(plan)) {}
  void run(const OpArgs &a) const override {
    kernels::permute(plan, a.out[0], a.in[0]);
  }

private:
  kernels::Permutation plan;
};

} // namespace

std::unique_ptr<Op> prepareTranspose(OpContext &c) {
  const char *name = artifact::attr::kTransposePermutation;
  c.operandCounts(1, 1);
  const OperandView &x = c.in(0), &out = c.out(0);
  c.sameDtype(x, "input", out, "result");
  std::vector<int64_t> permutation = c.integers(name);
  size_t rank = x.shape.size();
  if (permutation.size() != rank)
    c.fail(std::string(name) + " has " + std::to_string(permutation.size()) +
           " entries but the input " + c.describe(x) + " has rank " +
           std::to_string(rank));
  std::vector<bool> seen(rank, false);
  std::vector<int64_t> expected;
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= static_cast<int64_t>(rank) || seen[dim])
      c.fail(std::string(name) + " " + formatShape(permutation) +
             " is not a permutation of 0.." + std::to_string(rank) + "-1");
    seen[dim] = true;
    expected.push_back(x.shape[dim]);
  }
  c.shape(out, "result", expected);
  return std::make_unique<Transpose>(kernels::planPermutation(
      x.shape, permutation, artifact::sizeOf(x.dtype)));
}

} // namespace giga::exec::ops
