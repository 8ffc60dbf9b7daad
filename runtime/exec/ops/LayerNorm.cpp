//===- LayerNorm.cpp - layernorm and layernorm_grad -----------------------===//
#include "runtime/kernels/LayerNorm.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {
namespace {

/// Scratch: mean and rstd per row.
class LayerNorm : public Op {
public:
  explicit LayerNorm(NormRows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    float *mean = a.scratch, *rstd = a.scratch + shape.rows;
    kernels::layernormForward(a.f32Out(0), mean, rstd, a.f32In(0), a.f32In(1),
                              a.f32In(2), shape.rows, shape.cols,
                              shape.epsilon);
  }

private:
  NormRows shape;
};

/// The artifact keeps neither mean nor rstd: a forward pass into scratch
/// recomputes them (its output, also in scratch, is not used).
class LayerNormGrad : public Op {
public:
  explicit LayerNormGrad(NormRows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    float *mean = a.scratch, *rstd = a.scratch + shape.rows,
          *normalized = a.scratch + 2 * shape.rows;
    const float *grad = a.f32In(0), *x = a.f32In(1), *weight = a.f32In(2);
    // The weight stands in for the bias the gradient op does not have.
    kernels::layernormForward(normalized, mean, rstd, x, weight, weight,
                              shape.rows, shape.cols, shape.epsilon);
    kernels::layernormBackward(a.f32Out(0), a.f32Out(1), a.f32Out(2), grad, x,
                               weight, mean, rstd, shape.rows, shape.cols,
                               /*accumulate=*/false);
  }

private:
  NormRows shape;
};

NormRows checkLayerNorm(OpContext &c, bool grad, const char *epsilonName) {
  c.operandCounts(3, grad ? 3 : 1);
  const OperandView &x = grad ? c.in(1) : c.in(0);
  const OperandView &weight = grad ? c.in(2) : c.in(1);
  for (size_t i = 0; i < 3; ++i)
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
    c.shape(c.out(2), "dbias", channels);
  } else {
    c.shape(c.in(2), "bias", channels);
    c.shape(c.out(0), "result", x.shape);
  }
  return normRows(c, x, epsilonName);
}

} // namespace

std::unique_ptr<Op> prepareLayerNorm(OpContext &c) {
  return std::make_unique<LayerNorm>(
      checkLayerNorm(c, false, artifact::attr::kLayerNormEpsilon));
}

std::unique_ptr<Op> prepareLayerNormGrad(OpContext &c) {
  return std::make_unique<LayerNormGrad>(
      checkLayerNorm(c, true, artifact::attr::kLayerNormGradEpsilon));
}

} // namespace giga::exec::ops
