//===- RmsNorm.cpp - rmsnorm and rmsnorm_grad -----------------------------===//
#include "runtime/kernels/RmsNorm.h"
#include "runtime/exec/ops/Op.h"

#include <cmath>

namespace giga::exec::ops {
namespace {

struct Rows {
  int64_t rows = 0, cols = 0;
  float epsilon = 0.0f;
};

/// Scratch: rstd per row.
class RmsNorm : public Op {
public:
  explicit RmsNorm(Rows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    kernels::rmsnormForward(a.f32Out(0), a.scratch, a.f32In(0), a.f32In(1),
                            shape.rows, shape.cols, shape.epsilon);
  }

private:
  Rows shape;
};

/// The artifact keeps no rstd: a forward pass into scratch recomputes it (its
/// output, also in scratch, is not used).
class RmsNormGrad : public Op {
public:
  explicit RmsNormGrad(Rows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    float *rstd = a.scratch, *normalized = a.scratch + shape.rows;
    const float *grad = a.f32In(0), *x = a.f32In(1), *weight = a.f32In(2);
    kernels::rmsnormForward(normalized, rstd, x, weight, shape.rows, shape.cols,
                            shape.epsilon);
    kernels::rmsnormBackward(a.f32Out(0), a.f32Out(1), grad, x, weight, rstd,
                             shape.rows, shape.cols, /*accumulate=*/false);
  }

private:
  Rows shape;
};

Rows checkRmsNorm(OpContext &c, bool grad, const char *epsilonName) {
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
  double epsilon = c.number(epsilonName);
  if (!(epsilon >= 0.0) || !std::isfinite(epsilon))
    c.fail(std::string("attribute '") + epsilonName +
           "' must be finite and >= 0");
  Rows shape;
  shape.cols = x.shape.back();
  shape.rows = shape.cols ? x.elements / shape.cols : 0;
  shape.epsilon = static_cast<float>(epsilon);
  return shape;
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
