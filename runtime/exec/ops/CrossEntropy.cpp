//===- CrossEntropy.cpp - mean cross-entropy and its gradient -------------===//
#include "runtime/kernels/CrossEntropy.h"
#include "runtime/exec/ops/Op.h"

namespace giga::exec::ops {
namespace {

struct Rows {
  int64_t rows = 0, classes = 0;
};

/// Scratch: the logsumexp of every row.
class CrossEntropy : public Op {
public:
  explicit CrossEntropy(Rows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    const int32_t *labels = a.i32In(1);
    checkIds(a.layer, labels, shape.rows, shape.classes, "label");
    *a.f32Out(0) = kernels::crossEntropyForward(a.scratch, a.f32In(0), labels,
                                                shape.rows, shape.classes);
  }

private:
  Rows shape;
};

/// Inputs dloss, logits, labels (class ids). The artifact keeps only the
/// logits, so the logsumexp is computed again into scratch.
class CrossEntropyGrad : public Op {
public:
  explicit CrossEntropyGrad(Rows shape) : shape(shape) {}
  void run(const OpArgs &a) const override {
    const float *logits = a.f32In(1);
    const int32_t *labels = a.i32In(2);
    checkIds(a.layer, labels, shape.rows, shape.classes, "label");
    kernels::crossEntropyForward(a.scratch, logits, labels, shape.rows,
                                 shape.classes);
    kernels::crossEntropyBackward(a.f32Out(0), logits, a.scratch, labels,
                                  *a.f32In(0), shape.rows, shape.classes,
                                  /*accumulate=*/false);
  }

private:
  Rows shape;
};

Rows checkCrossEntropy(OpContext &c, bool grad) {
  c.operandCounts(grad ? 3 : 2, 1);
  size_t first = grad ? 1 : 0;
  const OperandView &logits = c.in(first), &labels = c.in(first + 1);
  c.dtype(logits, "logits", DType::F32);
  c.dtype(labels, "labels", DType::I32);
  c.minRank(logits, "logits", 1);
  std::vector<int64_t> rows = logits.shape;
  rows.pop_back();
  c.shape(labels, "labels", rows);
  if (grad) {
    c.dtype(c.in(0), "dloss", DType::F32);
    if (c.in(0).elements != 1)
      c.fail("dloss must be a scalar, got " + c.describe(c.in(0)));
    c.dtype(c.out(0), "dlogits", DType::F32);
    c.shape(c.out(0), "dlogits", logits.shape);
  } else {
    c.dtype(c.out(0), "loss", DType::F32);
    if (c.out(0).elements != 1)
      c.fail("loss must be a scalar, got " + c.describe(c.out(0)));
  }
  Rows shape{labels.elements, logits.shape.back()};
  if (shape.rows == 0 || shape.classes == 0)
    c.fail("logits " + c.describe(logits) + " are empty");
  return shape;
}

} // namespace

std::unique_ptr<Op> prepareCrossEntropy(OpContext &c) {
  return std::make_unique<CrossEntropy>(checkCrossEntropy(c, false));
}

std::unique_ptr<Op> prepareCrossEntropyGrad(OpContext &c) {
  return std::make_unique<CrossEntropyGrad>(checkCrossEntropy(c, true));
}

} // namespace giga::exec::ops
