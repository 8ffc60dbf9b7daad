//===- Constants.cpp - iota, causal_mask and fill -------------------------===//
//
// Ops without inputs that make a constant tensor.
//
//===----------------------------------------------------------------------===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Elementwise.h"

namespace giga::exec::ops {
namespace {

class Iota : public Op {
public:
  explicit Iota(int64_t count) : count(count) {}
  void run(const OpArgs &a) const override {
    kernels::iota(static_cast<int32_t *>(a.out[0]), count);
  }

private:
  int64_t count;
};

class CausalMask : public Op {
public:
  explicit CausalMask(int64_t seqLen) : seqLen(seqLen) {}
  void run(const OpArgs &a) const override {
    kernels::fillCausalMask(a.f32Out(0), seqLen);
  }

private:
  int64_t seqLen;
};

class Fill : public Op {
public:
  Fill(int64_t count, float value) : count(count), value(value) {}
  void run(const OpArgs &a) const override {
    kernels::fill(a.f32Out(0), count, value);
  }

private:
  int64_t count;
  float value;
};

} // namespace

std::unique_ptr<Op> prepareIota(OpContext &c) {
  c.operandCounts(0, 1);
  c.dtype(c.out(0), "result", DType::I32);
  if (c.out(0).shape.size() != 1)
    c.fail("result must be i32 [N], got " + c.describe(c.out(0)));
  return std::make_unique<Iota>(c.out(0).elements);
}

std::unique_ptr<Op> prepareCausalMask(OpContext &c) {
  c.operandCounts(0, 1);
  const OperandView &out = c.out(0);
  c.dtype(out, "result", DType::F32);
  if (out.shape.size() != 2 || out.shape[0] != out.shape[1])
    c.fail("result must be [T, T], got " + c.describe(out));
  return std::make_unique<CausalMask>(out.shape[0]);
}

std::unique_ptr<Op> prepareFill(OpContext &c) {
  c.operandCounts(0, 1);
  c.dtype(c.out(0), "result", DType::F32);
  return std::make_unique<Fill>(
      c.out(0).elements,
      static_cast<float>(c.number(artifact::attr::kFillValue)));
}

} // namespace giga::exec::ops
