//===- OpContext.cpp - one artifact op's operands and attributes checked --===//
#include "runtime/exec/ops/Op.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace giga::exec::ops {

int64_t product(const std::vector<int64_t> &shape, size_t begin, size_t end) {
  int64_t result = 1;
  for (size_t i = begin; i < end; ++i)
    result *= shape[i];
  return result;
}

bool isSuffix(const std::vector<int64_t> &suffix,
              const std::vector<int64_t> &shape) {
  return suffix.size() <= shape.size() &&
         std::equal(suffix.begin(), suffix.end(),
                    shape.end() - static_cast<std::ptrdiff_t>(suffix.size()));
}

const kernels::MatmulPlan *PlanCache::get(kernels::MatmulShape shape) {
  shape.precision = precision;
  std::unique_ptr<kernels::MatmulPlan> &plan = plans[shape];
  if (!plan)
    plan = std::make_unique<kernels::MatmulPlan>(shape);
  return plan.get();
}

void Op::fail(int64_t layer, const std::string &message) const {
  throw ExecError(where + " (layer " + std::to_string(layer) + "): " + message);
}

std::string outOfRange(const int32_t *ids, int64_t n, int64_t limit) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= limit)
      return std::to_string(ids[i]) + " at position " + std::to_string(i) +
             " is outside [0, " + std::to_string(limit) + ")";
  return "";
}

void Op::checkIds(int64_t layer, const int32_t *ids, int64_t n, int64_t limit,
                  const char *what) const {
  std::string problem = outOfRange(ids, n, limit);
  if (!problem.empty())
    fail(layer, std::string(what) + " " + problem);
}

OpContext::OpContext(const artifact::Artifact &artifact,
                     const artifact::Kernel &kernel, size_t index,
                     PlanCache &plans)
    : artifact(artifact), kernel(kernel), op(kernel.ops[index]), plans(plans) {
  location = "kernel '" + kernel.name + "' op " + std::to_string(index) + " '" +
             op.kernel + "'";
  opSchema = artifact::findOp(op.kernel);
  if (!opSchema) {
    std::string known;
    for (const artifact::OpSchema &candidate : artifact::opSchemas())
      known += std::string(known.empty() ? "" : ", ") + candidate.name;
    fail("unknown op kind '" + op.kernel + "' (known: " + known + ")");
  }
  for (size_t i = 0; i < op.inputs.size(); ++i)
    inputViews.push_back(view(op.inputs[i], "input " + std::to_string(i)));
  for (size_t i = 0; i < op.outputs.size(); ++i)
    outputViews.push_back(view(op.outputs[i], "output " + std::to_string(i)));
  checkAttributes();
}

void OpContext::fail(const std::string &message) const {
  throw ExecError(location + ": " + message);
}

OperandView OpContext::view(const artifact::Operand &operand,
                            const std::string &role) const {
  if (operand.buffer < 0 ||
      operand.buffer >= static_cast<int32_t>(artifact.buffers.size()))
    fail(role + " names buffer " + std::to_string(operand.buffer) +
         " but the artifact has " + std::to_string(artifact.buffers.size()) +
         " buffers");
  const artifact::Buffer &buffer = artifact.buffers[operand.buffer];
  OperandView view;
  view.buffer = operand.buffer;
  view.perLayer = operand.perLayer;
  view.dtype = buffer.type.dtype;
  view.shape = buffer.type.shape;
  if (operand.perLayer) {
    if (buffer.layers <= 0)
      fail(role + " takes a per-layer slice of buffer '" + buffer.name +
           "', which is not stacked");
    if (buffer.layers < kernel.layers)
      fail(role + " takes a per-layer slice of buffer '" + buffer.name +
           "', which holds " + std::to_string(buffer.layers) +
           " layers but the kernel runs " + std::to_string(kernel.layers));
  } else if (buffer.layers > 0) {
    view.shape.insert(view.shape.begin(), buffer.layers);
  }
  for (int64_t dim : view.shape)
    if (dim < 0)
      fail(role + " (buffer '" + buffer.name + "') has a negative dimension");
  view.elements = product(view.shape, 0, view.shape.size());
  view.bytes = view.elements * artifact::sizeOf(view.dtype);
  return view;
}

void OpContext::checkAttributes() const {
  if (!op.attrs.is_object() && !op.attrs.is_null())
    fail("attrs must be an object");
  if (op.attrs.is_object())
    for (const auto &[name, value] : op.attrs.items()) {
      bool known = false;
      for (const artifact::AttrSchema &attr : opSchema->attrs)
        known = known || name == attr.name;
      if (!known)
        fail("has an unknown attribute '" + name + "'");
    }
  for (const artifact::AttrSchema &attr : opSchema->attrs) {
    bool present = op.attrs.is_object() && op.attrs.contains(attr.name);
    if (!present) {
      if (attr.type != artifact::AttrType::Flag)
        fail(std::string("needs attribute '") + attr.name + "' (" +
             artifact::toString(attr.type) + ")");
      continue;
    }
    const nlohmann::json &value = op.attrs[attr.name];
    bool ok = false;
    switch (attr.type) {
    case artifact::AttrType::Flag:
      ok = value.is_boolean();
      break;
    case artifact::AttrType::Number:
      ok = value.is_number();
      break;
    case artifact::AttrType::Integer:
      ok = value.is_number_integer();
      break;
    case artifact::AttrType::Integers:
      ok = value.is_array();
      for (const nlohmann::json &entry : value)
        ok = ok && entry.is_number_integer();
      break;
    }
    if (!ok) {
      const char *expected[] = {"a boolean", "a number", "an integer",
                                "an array of integers"};
      fail(std::string("attribute '") + attr.name + "' must be " +
           expected[int(attr.type)] + ", got " + value.dump());
    }
  }
}

bool OpContext::flag(const char *name) const {
  return op.attrs.is_object() && op.attrs.contains(name) &&
         op.attrs[name].get<bool>();
}
double OpContext::number(const char *name) const {
  return op.attrs[name].get<double>();
}
int64_t OpContext::integer(const char *name) const {
  return op.attrs[name].get<int64_t>();
}
std::vector<int64_t> OpContext::integers(const char *name) const {
  return op.attrs[name].get<std::vector<int64_t>>();
}

int64_t OpContext::axis(const char *name, size_t rank) const {
  int64_t value = integer(name);
  int64_t r = static_cast<int64_t>(rank);
  if (value < -r || value >= r)
    fail(std::string("attribute '") + name + "' = " + std::to_string(value) +
         " is out of range for rank " + std::to_string(rank));
  return value < 0 ? value + r : value;
}

std::string OpContext::describe(const OperandView &view) const {
  return "buffer '" + artifact.buffers[view.buffer].name + "' " +
         artifact::toString(view.dtype) + " " + formatShape(view.shape);
}

void OpContext::operandCounts(size_t inputs, size_t outputs) const {
  if (op.inputs.size() != inputs || op.outputs.size() != outputs)
    fail("expects " + std::to_string(inputs) + " input(s) and " +
         std::to_string(outputs) + " output(s), got " +
         std::to_string(op.inputs.size()) + " and " +
         std::to_string(op.outputs.size()));
}

void OpContext::dtype(const OperandView &view, const std::string &role,
                      DType expected) const {
  if (view.dtype != expected)
    fail(role + " must be " + artifact::toString(expected) + ", got " +
         describe(view));
}

void OpContext::minRank(const OperandView &view, const std::string &role,
                        size_t rank) const {
  if (view.shape.size() < rank)
    fail(role + " must have rank >= " + std::to_string(rank) + ", got " +
         describe(view));
}

void OpContext::shape(const OperandView &view, const std::string &role,
                      const std::vector<int64_t> &expected) const {
  if (view.shape != expected)
    fail(role + " must have shape " + formatShape(expected) + ", got " +
         describe(view));
}

void OpContext::sameDtype(const OperandView &a, const std::string &roleA,
                          const OperandView &b,
                          const std::string &roleB) const {
  if (a.dtype != b.dtype)
    fail(roleB + " (" + describe(b) + ") must have the dtype of " + roleA +
         " (" + describe(a) + ")");
}

void OpContext::allF32OfOneShape() const {
  for (size_t i = 0; i < inputViews.size(); ++i) {
    dtype(in(i), "input " + std::to_string(i), DType::F32);
    shape(in(i), "input " + std::to_string(i), in(0).shape);
  }
  dtype(out(0), "result", DType::F32);
  shape(out(0), "result", in(0).shape);
}

NormRows normRows(const OpContext &c, const OperandView &x,
                  const char *epsilonName) {
  double epsilon = c.number(epsilonName);
  if (!(epsilon >= 0.0) || !std::isfinite(epsilon))
    c.fail(std::string("attribute '") + epsilonName +
           "' must be finite and >= 0");
  NormRows shape;
  shape.cols = x.shape.back();
  shape.rows = shape.cols ? x.elements / shape.cols : 0;
  shape.epsilon = static_cast<float>(epsilon);
  return shape;
}

const nlohmann::json &OpContext::attributes() const { return op.attrs; }

const kernels::MatmulPlan *
OpContext::matmulPlan(const kernels::MatmulShape &shape) {
  try {
    return plans.get(shape);
  } catch (const std::exception &e) {
    fail(std::string("cannot create the matmul primitive for ") + shape.str() +
         ": " + e.what());
  }
}

} // namespace giga::exec::ops
