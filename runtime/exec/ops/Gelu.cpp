//===- Gelu.cpp - gelu and gelu_grad, exact or tanh -----------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

kernels::GeluApproximation approximation(bool tanh) {
  return tanh ? kernels::GeluApproximation::Tanh
              : kernels::GeluApproximation::None;
}

class Gelu : public Op {
public:
  Gelu(int64_t count, bool tanh) : count(count), tanh(tanh) { inPlace = {{0}}; }
  void run(const OpArgs &a) const override {
    kernels::geluForward(a.f32Out(0), a.f32In(0), count, approximation(tanh));
  }

private:
  int64_t count;
  bool tanh;
};

/// dx = grad · gelu'(x); inputs grad, x.
class GeluGrad : public Op {
public:
  GeluGrad(int64_t count, bool tanh) : count(count), tanh(tanh) {
    inPlace = {{0, 1}};
  }
  void run(const OpArgs &a) const override {
    kernels::geluBackward(a.f32Out(0), a.f32In(1), a.f32In(0), count,
                          approximation(tanh), /*accumulate=*/false);
  }

private:
  int64_t count;
  bool tanh;
};

} // namespace

std::unique_ptr<Op> prepareGelu(OpContext &c) {
  c.operandCounts(1, 1);
  c.allF32OfOneShape();
  return std::make_unique<Gelu>(c.in(0).elements,
                                c.flag(artifact::attr::kGeluTanh));
}

std::unique_ptr<Op> prepareGeluGrad(OpContext &c) {
  c.operandCounts(2, 1);
  c.allF32OfOneShape();
  return std::make_unique<GeluGrad>(c.in(0).elements,
                                    c.flag(artifact::attr::kGeluGradTanh));
}

} // namespace giga::exec::ops
