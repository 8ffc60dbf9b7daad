//===- SplitConcat.cpp - split into and concat from parts along an axis ---===//
#include "runtime/exec/ops/Op.h"
#include "runtime/kernels/Layout.h"

namespace giga::exec::ops {
namespace {

/// The whole as [outer, sum(partCols)] rows; part i takes partCols[i]
/// elements of each.
struct Parts {
  int64_t outer = 0, elementSize = 4;
  std::vector<int64_t> partCols;
};

class Split : public Op {
public:
  explicit Split(Parts parts) : parts(std::move(parts)) {}
  void run(const OpArgs &a) const override {
    kernels::splitAxis(a.in[0], a.out.data(), parts.partCols.data(),
                       parts.partCols.size(), parts.outer, parts.elementSize);
  }

private:
  Parts parts;
};

class Concat : public Op {
public:
  explicit Concat(Parts parts) : parts(std::move(parts)) {}
  void run(const OpArgs &a) const override {
    kernels::concatAxis(a.out[0], a.in.data(), parts.partCols.data(),
                        parts.partCols.size(), parts.outer, parts.elementSize);
  }

private:
  Parts parts;
};

Parts checkParts(OpContext &c, bool split, const char *axisName) {
  size_t inputs = c.inputs().size(), outputs = c.outputs().size();
  if (split ? (inputs != 1 || outputs == 0) : (inputs == 0 || outputs != 1))
    c.fail(std::string(split ? "expects 1 input and at least 1 output"
                             : "expects at least 1 input and 1 output") +
           ", got " + std::to_string(inputs) + " and " +
           std::to_string(outputs));
  const OperandView &whole = split ? c.in(0) : c.out(0);
  const std::vector<OperandView> &parts = split ? c.outputs() : c.inputs();
  const char *wholeRole = split ? "input" : "result";
  size_t rank = whole.shape.size();
  if (rank == 0)
    c.fail(std::string(wholeRole) + " must have rank >= 1");
  int64_t axis = c.axis(axisName, rank);
  int64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string role = (split ? "output " : "input ") + std::to_string(i);
    c.sameDtype(whole, wholeRole, parts[i], role);
    if (parts[i].shape.size() != rank)
      c.fail(role + " (" + c.describe(parts[i]) + ") must have the rank of " +
             wholeRole + " (" + c.describe(whole) + ")");
    for (size_t d = 0; d < rank; ++d)
      if (d != static_cast<size_t>(axis) && parts[i].shape[d] != whole.shape[d])
        c.fail(role + " (" + c.describe(parts[i]) + ") differs from " +
               wholeRole + " (" + c.describe(whole) + ") outside axis " +
               std::to_string(axis));
    if (split && parts[i].shape[axis] != parts[0].shape[axis])
      c.fail("split parts must be equal; " + role + " is " +
             c.describe(parts[i]) + ", output 0 is " + c.describe(parts[0]));
    total += parts[i].shape[axis];
  }
  if (total != whole.shape[axis])
    c.fail("the parts' sizes along axis " + std::to_string(axis) + " add to " +
           std::to_string(total) + " but " + wholeRole + " " +
           c.describe(whole) + " has " + std::to_string(whole.shape[axis]));
  Parts result;
  result.elementSize = artifact::sizeOf(whole.dtype);
  result.outer = product(whole.shape, 0, axis);
  int64_t inner = product(whole.shape, axis + 1, rank);
  for (const OperandView &part : parts)
    result.partCols.push_back(part.shape[axis] * inner);
  return result;
}

} // namespace

std::unique_ptr<Op> prepareSplit(OpContext &c) {
  return std::make_unique<Split>(
      checkParts(c, true, artifact::attr::kSplitAxis));
}

std::unique_ptr<Op> prepareConcat(OpContext &c) {
  return std::make_unique<Concat>(
      checkParts(c, false, artifact::attr::kConcatAxis));
}

} // namespace giga::exec::ops
