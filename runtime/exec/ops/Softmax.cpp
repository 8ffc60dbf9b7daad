//===- Softmax.cpp - softmax and softmax_grad along any axis --------------===//
#include "runtime/kernels/Softmax.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {
namespace {

/// The softmax axis of length `len` between `outer` and `inner` elements.
struct Axis {
  int64_t outer = 0, len = 0, inner = 0;
};

Axis checkSoftmax(OpContext &c, size_t inputs, const char *axisName) {
  c.operandCounts(inputs, 1);
  c.allF32OfOneShape();
  const std::vector<int64_t> &shape = c.in(0).shape;
  c.minRank(c.in(0), "x", 1);
  int64_t axis = c.axis(axisName, shape.size());
  return {product(shape, 0, axis), shape[axis],
          product(shape, axis + 1, shape.size())};
}

class Softmax : public Op {
public:
  explicit Softmax(Axis axis) : axis(axis) { inPlace = {{0}}; }
  void run(const OpArgs &a) const override {
    if (axis.inner == 1)
      kernels::softmaxForward(a.f32Out(0), a.f32In(0), axis.outer, axis.len);
    else
      kernels::softmaxForwardStrided(a.f32Out(0), a.f32In(0), axis.outer,
                                     axis.len, axis.inner);
  }

private:
  Axis axis;
};

/// dx from grad and y, the softmax's output.
class SoftmaxGrad : public Op {
public:
  explicit SoftmaxGrad(Axis axis) : axis(axis) { inPlace = {{0, 1}}; }
  void run(const OpArgs &a) const override {
    if (axis.inner == 1)
      kernels::softmaxBackward(a.f32Out(0), a.f32In(1), a.f32In(0), axis.outer,
                               axis.len, /*accumulate=*/false);
    else
      kernels::softmaxBackwardStrided(a.f32Out(0), a.f32In(1), a.f32In(0),
                                      axis.outer, axis.len, axis.inner);
  }

private:
  Axis axis;
};

} // namespace

std::unique_ptr<Op> prepareSoftmax(OpContext &c) {
  return std::make_unique<Softmax>(
      checkSoftmax(c, 1, artifact::attr::kSoftmaxAxis));
}

std::unique_ptr<Op> prepareSoftmaxGrad(OpContext &c) {
  return std::make_unique<SoftmaxGrad>(
      checkSoftmax(c, 2, artifact::attr::kSoftmaxGradAxis));
}

} // namespace giga::exec::ops
