//===- LinearCrossEntropy.cpp - the head fused with the loss -------------===//
#include "runtime/kernels/LinearCrossEntropy.h"
#include "runtime/exec/ops/Op.h"

#include <algorithm>
#include <memory>

namespace giga::exec::ops {
namespace {

/// linear_cross_entropy: inputs x, weight, labels; output loss.
/// linear_cross_entropy_grad: inputs dloss, x, weight, labels; outputs loss,
/// dx, dweight. Scratch: the plan's scratchFloats().
class LinearCrossEntropy : public Op {
public:
  LinearCrossEntropy(std::unique_ptr<kernels::LinearCrossEntropyPlan> plan,
                     bool grad)
      : plan(std::move(plan)), grad(grad) {}
  void run(const OpArgs &a) const override {
    size_t x = grad ? 1 : 0; // then weight, then labels
    const int32_t *labels = a.i32In(x + 2);
    const kernels::LinearCrossEntropyShape &s = plan->shape();
    checkIds(a.layer, labels, s.rows, s.classes, "label");
    *a.f32Out(0) =
        grad ? plan->forwardBackward(a.f32Out(1), a.f32Out(2), a.scratch,
                                     a.f32In(x), a.f32In(x + 1), labels,
                                     *a.f32In(0), /*accumulate=*/false)
             : plan->forward(a.scratch, a.f32In(x), a.f32In(x + 1), labels);
  }

private:
  std::unique_ptr<kernels::LinearCrossEntropyPlan> plan;
  bool grad;
};

std::unique_ptr<Op> prepare(OpContext &c, bool grad) {
  using namespace artifact::attr;
  c.operandCounts(grad ? 4 : 3, grad ? 3 : 1);
  size_t first = grad ? 1 : 0;
  const OperandView &x = c.in(first), &weight = c.in(first + 1),
                    &labels = c.in(first + 2);
  c.dtype(x, "x", DType::F32);
  c.dtype(weight, "weight", DType::F32);
  c.dtype(labels, "labels", DType::I32);
  c.minRank(x, "x", 2);
  int64_t channels = x.shape.back();
  if (weight.shape.size() != 2 || weight.shape[1] != channels ||
      weight.shape[0] < 1)
    c.fail("weight " + c.describe(weight) + " must be [V, " +
           std::to_string(channels) + "]: a row of x's width per class");
  std::vector<int64_t> rows = x.shape;
  rows.pop_back();
  c.shape(labels, "labels", rows);
  c.dtype(c.out(0), "loss", DType::F32);
  if (c.out(0).elements != 1)
    c.fail("loss must be a scalar, got " + c.describe(c.out(0)));
  if (grad) {
    c.dtype(c.in(0), "dloss", DType::F32);
    if (c.in(0).elements != 1)
      c.fail("dloss must be a scalar, got " + c.describe(c.in(0)));
    c.dtype(c.out(1), "dx", DType::F32);
    c.shape(c.out(1), "dx", x.shape);
    c.dtype(c.out(2), "dweight", DType::F32);
    c.shape(c.out(2), "dweight", weight.shape);
  }
  kernels::LinearCrossEntropyShape shape;
  shape.rows = labels.elements;
  shape.channels = channels;
  shape.classes = weight.shape[0];
  int64_t chunk =
      c.integer(grad ? kLinearCrossEntropyGradChunk : kLinearCrossEntropyChunk);
  if (shape.rows == 0 || channels == 0)
    c.fail("x " + c.describe(x) + " is empty");
  if (chunk < 1)
    c.fail("chunk " + std::to_string(chunk) +
           " must be at least 1 (vocabulary columns)");
  shape.chunk = std::min(chunk, shape.classes);
  shape.precision = c.matmulPrecision();
  try {
    return std::make_unique<LinearCrossEntropy>(
        std::make_unique<kernels::LinearCrossEntropyPlan>(shape, grad), grad);
  } catch (const std::exception &e) {
    c.fail(std::string("cannot create its matmul primitives: ") + e.what());
  }
}

} // namespace

std::unique_ptr<Op> prepareLinearCrossEntropy(OpContext &c) {
  return prepare(c, /*grad=*/false);
}

std::unique_ptr<Op> prepareLinearCrossEntropyGrad(OpContext &c) {
  return prepare(c, /*grad=*/true);
}

} // namespace giga::exec::ops
