//===- RmsNorm.cpp - rmsnorm and rmsnorm_grad -----------------------------===//
#include "runtime/kernels/RmsNorm.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {
namespace {

/// Scratch: rstd per row.
class RmsNorm : public Op {
public:
  explicit RmsNorm(NormRows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    kernels::rmsnormForward(a.f32Out(0), a.scratch, a.f32In(0), a.f32In(1),
                            shape.rows, shape.cols, shape.epsilon);
  }

private:
  NormRows shape;
};

/// The artifact keeps no rstd: a forward pass into scratch recomputes it (its
/// output, also in scratch, is not used).
class RmsNormGrad : public Op {
public:
  explicit RmsNormGrad(NormRows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    float *rstd = a.scratch, *normalized = a.scratch + shape.rows;
    const float *grad = a.f32In(0), *x = a.f32In(1), *weight = a.f32In(2);
    kernels::rmsnormForward(normalized, rstd, x, weight, shape.rows, shape.cols,
                            shape.epsilon);
    kernels::rmsnormBackward(a.f32Out(0), a.f32Out(1), grad, x, weight, rstd,
                             shape.rows, shape.cols, /*accumulate=*/false);
  }

private:
  NormRows shape;
};

NormRows checkRmsNorm(OpContext &c, bool grad, const char *epsilonName) {
  c.operandCounts(grad ? 3 : 2, grad ? 2 : 1);
  const OperandView &x = grad ? c.in(1) : c.in(0);
  const OperandView &weight = grad ? c.in(2) : c.in(1);
  for (size_t i = 0; i < c.inputs().size(); ++i)
    c.dtype(c.in(i), "input " + std::to_string(i), DType::F32);
  for (size_t i = 0; i < c.outputs().size(); ++i)
    c.dtype(c.out(i), "output " + std::to_string(i), DType::F32);
  c.minRank(x, "x", 1);
  std::vector<int64_t> channels = {x.shape.back()};
  c.shape(weight, "weight", channels);
  if (grad) {
    c.shape(c.in(0), "grad", x.shape);
    c.shape(c.out(0), "dx", x.shape);
    c.shape(c.out(1), "dweight", channels);
  } else {
    c.shape(c.out(0), "result", x.shape);
  }
  return normRows(c, x, epsilonName);
}

} // namespace

std::unique_ptr<Op> prepareRmsNorm(OpContext &c) {
  return std::make_unique<RmsNorm>(
      checkRmsNorm(c, false, artifact::attr::kRmsNormEpsilon));
}

std::unique_ptr<Op> prepareRmsNormGrad(OpContext &c) {
  return std::make_unique<RmsNormGrad>(
      checkRmsNorm(c, true, artifact::attr::kRmsNormGradEpsilon));
}

} // namespace giga::exec::ops
