//===- Copy.cpp - bytes from one buffer into another ----------------------===//
#include "runtime/exec/ops/Op.h"

#include <cstring>

namespace giga::exec::ops {
namespace {

/// A reshape whose result could not share its input's bytes.
class Copy : public Op {
public:
  explicit Copy(int64_t bytes) : bytes(bytes) { inPlace = {{0}}; }
  void run(const OpArgs &a) const override {
    if (a.out[0] != a.in[0])
      std::memcpy(a.out[0], a.in[0], bytes);
  }

private:
  int64_t bytes;
};

} // namespace

std::unique_ptr<Op> prepareCopy(OpContext &c) {
  c.operandCounts(1, 1);
  c.sameDtype(c.in(0), "input", c.out(0), "result");
  if (c.in(0).elements != c.out(0).elements)
    c.fail("result " + c.describe(c.out(0)) +
           " must have as many elements as the input " + c.describe(c.in(0)));
  return std::make_unique<Copy>(c.in(0).bytes);
}

} // namespace giga::exec::ops
