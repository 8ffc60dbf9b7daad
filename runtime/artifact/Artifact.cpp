//===- Artifact.cpp - reading and writing step.wafer ----------------------===//
#include "runtime/artifact/Artifact.h"

#include "runtime/support/AtomicFile.h"
#include "runtime/support/Hash.h"
#include <algorithm>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace giga::artifact {

using nlohmann::json;

namespace {

// nlohmann's CBOR reader recurses once per level of nesting, in arrays and
// maps and in indefinite-length strings' chunks alike, so a payload nested a
// few thousand deep overflows the stack before any field is checked. No
// artifact nests past a handful of levels.
constexpr int kMaxCborDepth = 64;

/// Whether the CBOR in `bytes` nests at most `maxDepth` deep up to where it
/// stops being readable, found by a scan without recursion (the reader then
/// reports what is malformed).
bool cborNestsAtMost(std::string_view bytes, int maxDepth) {
  // Items left in each open container; -1 until a break byte (0xff).
  std::vector<uint64_t> open;
  constexpr uint64_t kUntilBreak = ~uint64_t(0);
  auto completeItem = [&] {
    while (!open.empty() && open.back() != kUntilBreak) {
      if (--open.back() > 0)
        return;
      open.pop_back(); // the container was an item of the one around it
    }
  };
  size_t at = 0;
  while (at < bytes.size()) {
    const uint8_t initial = uint8_t(bytes[at++]);
    if (initial == 0xff) {
      if (open.empty() || open.back() != kUntilBreak)
        return true;
      open.pop_back();
      completeItem();
      continue;
    }
    const int major = initial >> 5, info = initial & 31;
    uint64_t value = uint64_t(info);
    if (info >= 24 && info <= 27) {
      const size_t size = size_t(1) << (info - 24);
      if (size > bytes.size() - at)
        return true;
      value = 0;
      for (size_t i = 0; i < size; ++i)
        value = value << 8 | uint8_t(bytes[at++]);
    } else if (info >= 28 && info != 31) {
      return true;
    }
    const bool indefinite = info == 31;
    if (major == 6) // a tag: a prefix of the next item
      continue;
    if ((major == 2 || major == 3) && !indefinite) {
      if (value > bytes.size() - at)
        return true;
      at += size_t(value);
    }
    const bool container =
        major == 4 || major == 5 || ((major == 2 || major == 3) && indefinite);
    if (container && (indefinite || value > 0)) {
      // A count past the input is still read item by item (and nested)
      // until the input ends: keep scanning it.
      const uint64_t items =
          major == 5
              ? (value > (kUntilBreak >> 2) ? kUntilBreak - 1 : 2 * value)
              : std::min(value, kUntilBreak - 1);
      open.push_back(indefinite ? kUntilBreak : items);
      if (open.size() > size_t(maxDepth))
        return false;
      continue;
    }
    completeItem();
  }
  return true;
}

} // namespace

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const char *toString(DType type) {
  switch (type) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  return "?";
}

int64_t sizeOf(DType type) { return type == DType::I64 ? 8 : 4; }

int64_t checkedElements(const std::vector<int64_t> &shape, int64_t layers) {
  if (layers < 0)
    return -1;
  int64_t count = layers;
  for (int64_t dim : shape) {
    if (dim < 0 || (dim > 0 && count > kMaxTensorElements / dim))
      return -1;
    count *= dim;
  }
  return count;
}

int64_t TensorType::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::string Parameter::fullName(int64_t layer) const {
  return group.empty() ? name
                       : group + "." + std::to_string(layer) + "." + name;
}

int64_t Parameter::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

double Optimizer::learningRateAt(int64_t step) const {
  if (step < warmupSteps)
    return learningRate * double(step) / double(warmupSteps);
  double progress = decaySteps > 0
                        ? std::min(1.0, double(step - warmupSteps) / decaySteps)
                        : 1.0;
  double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return learningRate * (minLrRatio + (1.0 - minLrRatio) * cosine);
}

int64_t Artifact::parameterCount() const {
  int64_t count = 0;
  for (const Parameter &param : params)
    count += param.elements() * param.layers;
  return count;
}

namespace {

json operandJson(const Operand &operand) {
  return json::array({operand.buffer, operand.perLayer});
}

json opJson(const Op &op) {
  json inputs = json::array(), outputs = json::array();
  for (const Operand &operand : op.inputs)
    inputs.push_back(operandJson(operand));
  for (const Operand &operand : op.outputs)
    outputs.push_back(operandJson(operand));
  return {{"kernel", op.kernel},
          {"inputs", inputs},
          {"outputs", outputs},
          {"attrs", op.attrs}};
}

/// Reads the payload, naming the JSON path of anything missing or wrong.
class Reader {
public:
  explicit Reader(const std::string &source) : source(source) {}

  [[noreturn]] void fail(const std::string &where,
                         const std::string &problem) const {
    throw ArtifactError(source + ": " + where + ": " + problem +
                        "; the artifact is corrupt or from another gigac "
                        "version, recompile it with gigac compile");
  }

  const json &field(const json &object, const char *key,
                    const std::string &where) const {
    if (!object.is_object() || !object.contains(key))
      fail(where, std::string("missing '") + key + "'");
    return object[key];
  }

  int64_t integer(const json &object, const char *key, const std::string &where,
                  int64_t min = 0) const {
    const json &value = field(object, key, where);
    if (!value.is_number_integer() || value.get<int64_t>() < min)
      fail(where + "." + key, "expected an integer >= " + std::to_string(min));
    return value.get<int64_t>();
  }

  double real(const json &object, const char *key,
              const std::string &where) const {
    const json &value = field(object, key, where);
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      fail(where + "." + key, "expected a finite number");
    return value.get<double>();
  }

  std::string string(const json &object, const char *key,
                     const std::string &where) const {
    const json &value = field(object, key, where);
    if (!value.is_string())
      fail(where + "." + key, "expected a string");
    return value.get<std::string>();
  }

  const json &array(const json &object, const char *key,
                    const std::string &where) const {
    const json &value = field(object, key, where);
    if (!value.is_array())
      fail(where + "." + key, "expected an array");
    return value;
  }

  std::vector<int64_t> shape(const json &object, const char *key,
                             const std::string &where) const {
    std::vector<int64_t> dims;
    for (const json &dim : array(object, key, where)) {
      if (!dim.is_number_integer() || dim.get<int64_t>() <= 0)
        fail(where + "." + key, "expected positive dimensions");
      dims.push_back(dim.get<int64_t>());
    }
    return dims;
  }

  int32_t index(const json &value, size_t size,
                const std::string &where) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() >= int64_t(size))
      fail(where, "index out of range (0.." + std::to_string(size) + ")");
    return int32_t(value.get<int64_t>());
  }

  Operand operand(const json &value, const std::vector<Buffer> &buffers,
                  const std::string &where) const {
    if (!value.is_array() || value.size() != 2 || !value[1].is_boolean())
      fail(where, "expected [buffer, perLayer]");
    Operand operand{index(value[0], buffers.size(), where),
                    value[1].get<bool>()};
    if (operand.perLayer && buffers[operand.buffer].layers == 0)
      fail(where, "per-layer use of buffer '" + buffers[operand.buffer].name +
                      "', which is not stacked");
    return operand;
  }

private:
  const std::string &source;
};

DType parseDType(const Reader &reader, const std::string &text,
                 const std::string &where) {
  if (text == "f32")
    return DType::F32;
  if (text == "i32")
    return DType::I32;
  if (text == "i64")
    return DType::I64;
  reader.fail(where, "unknown dtype '" + text + "'");
}

json entryPointJson(const EntryPoint &entry) {
  auto bindings = [](const std::vector<Binding> &list) {
    json out = json::array();
    for (const Binding &b : list)
      out.push_back(
          {{"name", b.name}, {"buffer", b.buffer}, {"limit", b.limit}});
    return out;
  };
  json commands = json::array();
  for (const Command &c : entry.commands)
    commands.push_back({{"op", "invoke"}, {"kernel", c.kernel}});
  return {{"name", entry.name},
          {"inputs", bindings(entry.inputs)},
          {"outputs", bindings(entry.outputs)},
          {"commands", commands}};
}

/// An entry point's inputs or outputs (`key`): whole, unstacked buffers with
/// distinct names, a value range only on i32.
std::vector<Binding> readBindings(const Reader &r, const json &e,
                                  const char *key, const Artifact &a,
                                  const std::string &where) {
  std::vector<Binding> list;
  for (const json &b : r.array(e, key, where)) {
    std::string at =
        where + "." + key + "[" + std::to_string(list.size()) + "]";
    Binding binding;
    binding.name = r.string(b, "name", at);
    binding.buffer = r.index(r.field(b, "buffer", at), a.buffers.size(), at);
    binding.limit = r.integer(b, "limit", at);
    const Buffer &buffer = a.buffers[binding.buffer];
    if (buffer.layers > 0)
      r.fail(at,
             "binds stacked buffer '" + buffer.name + "'; bind a whole tensor");
    if (binding.limit > 0 && buffer.type.dtype != DType::I32)
      r.fail(at + ".limit", "a value range needs an i32 buffer");
    for (const Binding &other : list)
      if (other.name == binding.name)
        r.fail(at, "'" + binding.name + "' is bound twice");
    list.push_back(binding);
  }
  return list;
}

/// An entry point with a new name whose commands name kernels of the
/// artifact.
EntryPoint readEntryPoint(const Reader &r, const json &e, const Artifact &a,
                          const std::string &where) {
  EntryPoint entry;
  entry.name = r.string(e, "name", where);
  if (a.entryPoint(entry.name))
    r.fail(where + ".name", "'" + entry.name + "' names two entry points");
  entry.inputs = readBindings(r, e, "inputs", a, where);
  entry.outputs = readBindings(r, e, "outputs", a, where);
  for (const json &c : r.array(e, "commands", where)) {
    std::string at =
        where + ".commands[" + std::to_string(entry.commands.size()) + "]";
    std::string op = r.string(c, "op", at);
    if (op != "invoke")
      r.fail(at + ".op", "unknown command '" + op + "' (known: invoke)");
    Command command;
    command.kernel = r.index(r.field(c, "kernel", at), a.kernels.size(), at);
    entry.commands.push_back(command);
  }
  return entry;
}

Parameter readParameter(const Reader &r, const json &p,
                        const std::string &where) {
  Parameter param;
  param.name = r.string(p, "name", where);
  param.group = r.string(p, "group", where);
  param.layers = r.integer(p, "layers", where, 1);
  param.shape = r.shape(p, "shape", where);
  if (checkedElements(param.shape, param.layers) < 0)
    r.fail(where + ".shape", "more than 2^56 elements over its layers; no "
                             "model has a tensor this large");
  param.init = r.string(p, "init", where);
  if (param.init != "normal" && param.init != "zeros" && param.init != "ones")
    r.fail(where + ".init", "unknown init '" + param.init + "'");
  param.std = r.real(p, "std", where);
  param.weightDecay = r.real(p, "weight_decay", where);
  return param;
}

Optimizer readOptimizer(const Reader &r, const json &root) {
  Optimizer optimizer;
  const json &o = r.field(root, "optimizer", "payload");
  optimizer.kind = r.string(o, "kind", "optimizer");
  if (optimizer.kind != "adamw" && optimizer.kind != "sgd")
    r.fail("optimizer.kind", "unknown optimizer '" + optimizer.kind + "'");
  optimizer.beta1 = r.real(o, "beta1", "optimizer");
  optimizer.beta2 = r.real(o, "beta2", "optimizer");
  optimizer.epsilon = r.real(o, "epsilon", "optimizer");
  optimizer.momentum = r.real(o, "momentum", "optimizer");
  optimizer.learningRate = r.real(o, "learning_rate", "optimizer");
  optimizer.warmupSteps = r.integer(o, "warmup_steps", "optimizer");
  optimizer.decaySteps = r.integer(o, "decay_steps", "optimizer");
  optimizer.minLrRatio = r.real(o, "min_lr_ratio", "optimizer");
  optimizer.maxGradientNorm = r.real(o, "max_gradient_norm", "optimizer");
  return optimizer;
}

Buffer readBuffer(const Reader &r, const json &b, const std::string &where,
                  int64_t arenaBytes) {
  Buffer buffer;
  buffer.name = r.string(b, "name", where);
  buffer.type.dtype = parseDType(r, r.string(b, "dtype", where), where);
  buffer.type.shape = r.shape(b, "shape", where);
  buffer.offset = r.integer(b, "offset", where);
  buffer.layers = r.integer(b, "layers", where);
  if (checkedElements(buffer.type.shape, std::max<int64_t>(buffer.layers, 1)) <
      0)
    r.fail(where + ".shape", "more than 2^56 elements over its layers; no "
                             "model has a tensor this large");
  const json &state = r.field(b, "state", where);
  if (!state.is_boolean())
    r.fail(where + ".state", "expected true or false");
  buffer.state = state.get<bool>();
  if (buffer.offset + buffer.totalBytes() > arenaBytes)
    r.fail(where, "lies outside the arena of " + std::to_string(arenaBytes) +
                      " bytes");
  return buffer;
}

Kernel readKernel(const Reader &r, const json &k, const Artifact &a,
                  const std::string &where) {
  Kernel kernel;
  kernel.name = r.string(k, "name", where);
  kernel.group = r.string(k, "group", where);
  kernel.layers = r.integer(k, "layers", where, 1);
  const json &reverse = r.field(k, "reverse", where);
  if (!reverse.is_boolean())
    r.fail(where + ".reverse", "expected a boolean");
  kernel.reverse = reverse.get<bool>();
  const json &backward = r.field(k, "backward", where);
  if (!backward.is_boolean())
    r.fail(where + ".backward", "expected a boolean");
  kernel.backward = backward.get<bool>();
  for (const json &s : r.array(k, "stream_in", where)) {
    if (!s.is_array() || s.size() != 2)
      r.fail(where + ".stream_in", "expected [param, operand]");
    kernel.streamIn.push_back(
        {r.index(s[0], a.params.size(), where + ".stream_in"),
         r.operand(s[1], a.buffers, where + ".stream_in")});
  }
  for (const json &op : r.array(k, "ops", where)) {
    std::string opWhere =
        where + ".ops[" + std::to_string(kernel.ops.size()) + "]";
    Op parsed;
    parsed.kernel = r.string(op, "kernel", opWhere);
    for (const json &v : r.array(op, "inputs", opWhere))
      parsed.inputs.push_back(r.operand(v, a.buffers, opWhere + ".inputs"));
    for (const json &v : r.array(op, "outputs", opWhere))
      parsed.outputs.push_back(r.operand(v, a.buffers, opWhere + ".outputs"));
    parsed.attrs = r.field(op, "attrs", opWhere);
    kernel.ops.push_back(std::move(parsed));
  }
  for (const json &s : r.array(k, "stream_out", where)) {
    if (!s.is_array() || s.size() != 3)
      r.fail(where + ".stream_out", "expected [operand, param, after_op]");
    StreamOut out{r.operand(s[0], a.buffers, where + ".stream_out"),
                  r.index(s[1], a.params.size(), where + ".stream_out"), -1};
    if (s[2] != -1)
      out.afterOp = r.index(s[2], kernel.ops.size(), where + ".stream_out");
    kernel.streamOut.push_back(out);
  }
  for (const json &c : r.array(k, "carry", where)) {
    if (!c.is_array() || c.size() != 2)
      r.fail(where + ".carry", "expected [into, from]");
    kernel.carry.push_back({r.index(c[0], a.buffers.size(), where + ".carry"),
                            r.index(c[1], a.buffers.size(), where + ".carry")});
  }
  const json &p = r.field(k, "placement", where);
  kernel.placement.pes = r.integer(p, "pes", where + ".placement");
  kernel.placement.sramBytes = r.integer(p, "sram_bytes", where + ".placement");
  kernel.placement.flops = r.real(p, "flops", where + ".placement");
  kernel.placement.computeCycles =
      r.real(p, "compute_cycles", where + ".placement");
  kernel.placement.streamCycles =
      r.real(p, "stream_cycles", where + ".placement");
  kernel.placement.streamBytes =
      r.integer(p, "stream_bytes", where + ".placement");
  return kernel;
}

constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // little-endian hosts only (x86-64)
  out.append(bytes, sizeof(T));
}

template <typename T> T get(const std::string &in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

} // namespace

const Binding *EntryPoint::input(const std::string &name) const {
  for (const Binding &b : inputs)
    if (b.name == name)
      return &b;
  return nullptr;
}

const Binding *EntryPoint::output(const std::string &name) const {
  for (const Binding &b : outputs)
    if (b.name == name)
      return &b;
  return nullptr;
}

const EntryPoint *Artifact::entryPoint(const std::string &name) const {
  for (const EntryPoint &e : entryPoints)
    if (e.name == name)
      return &e;
  return nullptr;
}

json toJson(const Artifact &artifact) {
  json entryPoints = json::array();
  for (const EntryPoint &e : artifact.entryPoints)
    entryPoints.push_back(entryPointJson(e));
  json params = json::array();
  for (const Parameter &p : artifact.params)
    params.push_back({{"name", p.name},
                      {"group", p.group},
                      {"layers", p.layers},
                      {"shape", p.shape},
                      {"init", p.init},
                      {"std", p.std},
                      {"weight_decay", p.weightDecay}});
  json buffers = json::array();
  for (const Buffer &b : artifact.buffers)
    buffers.push_back({{"name", b.name},
                       {"dtype", toString(b.type.dtype)},
                       {"shape", b.type.shape},
                       {"offset", b.offset},
                       {"layers", b.layers},
                       {"state", b.state}});
  json kernels = json::array();
  for (const Kernel &k : artifact.kernels) {
    json ops = json::array(), in = json::array(), out = json::array(),
         carry = json::array();
    for (const Op &op : k.ops)
      ops.push_back(opJson(op));
    for (const StreamIn &s : k.streamIn)
      in.push_back({s.param, operandJson(s.target)});
    for (const StreamOut &s : k.streamOut)
      out.push_back({operandJson(s.source), s.param, s.afterOp});
    for (auto [into, from] : k.carry)
      carry.push_back({into, from});
    const Placement &p = k.placement;
    kernels.push_back({{"name", k.name},
                       {"group", k.group},
                       {"backward", k.backward},
                       {"layers", k.layers},
                       {"reverse", k.reverse},
                       {"stream_in", in},
                       {"ops", ops},
                       {"stream_out", out},
                       {"carry", carry},
                       {"placement",
                        {{"pes", p.pes},
                         {"sram_bytes", p.sramBytes},
                         {"flops", p.flops},
                         {"compute_cycles", p.computeCycles},
                         {"stream_cycles", p.streamCycles},
                         {"stream_bytes", p.streamBytes}}}});
  }
  const Optimizer &o = artifact.optimizer;
  return {{"config", artifact.config},
          {"target", artifact.target},
          {"batch_size", artifact.batchSize},
          {"micro_batch", artifact.microBatch},
          {"systems", artifact.systems},
          {"sequence_length", artifact.sequenceLength},
          {"model_flops_per_step", artifact.modelFlopsPerStep},
          {"params", params},
          {"optimizer",
           {{"kind", o.kind},
            {"beta1", o.beta1},
            {"beta2", o.beta2},
            {"epsilon", o.epsilon},
            {"momentum", o.momentum},
            {"learning_rate", o.learningRate},
            {"warmup_steps", o.warmupSteps},
            {"decay_steps", o.decaySteps},
            {"min_lr_ratio", o.minLrRatio},
            {"max_gradient_norm", o.maxGradientNorm}}},
          {"buffers", buffers},
          {"arena_bytes", artifact.arenaBytes},
          {"op_scratch",
           {{"offset", artifact.opScratchOffset},
            {"bytes", artifact.opScratchBytes}}},
          {"kernels", kernels},
          {"entry_points", entryPoints},
          {"report", artifact.report}};
}

Artifact fromJson(const json &root, const std::string &source) {
  Reader r(source);
  Artifact a;
  if (!root.is_object())
    r.fail("payload", "expected an object");
  a.config = r.field(root, "config", "payload");
  a.target = r.field(root, "target", "payload");
  a.report = root.value("report", json::object());
  a.batchSize = r.integer(root, "batch_size", "payload", 1);
  a.microBatch = r.integer(root, "micro_batch", "payload", 1);
  a.systems = r.integer(root, "systems", "payload", 1);
  if (a.batchSize / a.systems / a.microBatch < 1 ||
      a.batchSize % (a.systems * a.microBatch) != 0)
    r.fail("payload.micro_batch", "times systems does not divide batch_size");
  a.sequenceLength = r.integer(root, "sequence_length", "payload", 1);
  a.modelFlopsPerStep = r.real(root, "model_flops_per_step", "payload");
  if (!(a.modelFlopsPerStep >= 0.0))
    r.fail("payload.model_flops_per_step", "must be >= 0");

  for (const json &p : r.array(root, "params", "payload"))
    a.params.push_back(
        readParameter(r, p, "params[" + std::to_string(a.params.size()) + "]"));
  a.optimizer = readOptimizer(r, root);
  a.arenaBytes = r.integer(root, "arena_bytes", "payload");
  const json &scratch = r.field(root, "op_scratch", "payload");
  a.opScratchOffset = r.integer(scratch, "offset", "op_scratch");
  a.opScratchBytes = r.integer(scratch, "bytes", "op_scratch");
  if (a.opScratchOffset > a.arenaBytes ||
      a.opScratchBytes > a.arenaBytes - a.opScratchOffset)
    r.fail("op_scratch", "lies outside the arena of " +
                             std::to_string(a.arenaBytes) + " bytes");
  for (const json &b : r.array(root, "buffers", "payload"))
    a.buffers.push_back(
        readBuffer(r, b, "buffers[" + std::to_string(a.buffers.size()) + "]",
                   a.arenaBytes));
  for (const json &k : r.array(root, "kernels", "payload"))
    a.kernels.push_back(readKernel(
        r, k, a, "kernels[" + std::to_string(a.kernels.size()) + "]"));
  for (const json &e : r.array(root, "entry_points", "payload"))
    a.entryPoints.push_back(readEntryPoint(
        r, e, a, "entry_points[" + std::to_string(a.entryPoints.size()) + "]"));
  return a;
}

std::string serialize(const Artifact &artifact) {
  std::vector<std::uint8_t> payload = json::to_cbor(toJson(artifact));
  std::string bytes(kMagic, sizeof(kMagic));
  put<uint32_t>(bytes, kFormatVersion);
  put<uint32_t>(bytes, 0); // flags, reserved
  put<uint64_t>(bytes, payload.size());
  put<uint64_t>(bytes, fnv1a64(std::string_view(
                           reinterpret_cast<const char *>(payload.data()),
                           payload.size())));
  bytes.append(reinterpret_cast<const char *>(payload.data()), payload.size());
  return bytes;
}

Artifact deserialize(const std::string &bytes, const std::string &source) {
  if (bytes.size() < kHeaderBytes ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw ArtifactError(source + ": not a giga artifact (bad magic); produce "
                                 "one with gigac compile CONFIG -o FILE.wafer");
  uint32_t version = get<uint32_t>(bytes, 8);
  if (version != kFormatVersion)
    throw ArtifactError(
        source + ": artifact format version " + std::to_string(version) +
        ", but this gigarun reads "
        "version " +
        std::to_string(kFormatVersion) + "; recompile it with this gigac");
  // No flag is defined yet: one set means a newer writer or a damaged
  // header (the checksum covers only the payload).
  if (uint32_t flags = get<uint32_t>(bytes, 12); flags != 0)
    throw ArtifactError(source + ": header flags " + std::to_string(flags) +
                        ", but this gigarun knows none (flags must be 0); "
                        "the header is damaged or from a newer gigac: "
                        "recompile it with this gigac");
  uint64_t length = get<uint64_t>(bytes, 16);
  uint64_t checksum = get<uint64_t>(bytes, 24);
  if (bytes.size() - kHeaderBytes != length)
    throw ArtifactError(source + ": truncated or padded artifact (payload of " +
                        std::to_string(bytes.size() - kHeaderBytes) +
                        " bytes, header says " + std::to_string(length) +
                        "); recompile it");
  if (fnv1a64(std::string_view(bytes).substr(kHeaderBytes, length)) != checksum)
    throw ArtifactError(source + ": checksum mismatch, the artifact is "
                                 "corrupted; recompile it");
  const std::string_view cbor = std::string_view(bytes).substr(kHeaderBytes);
  if (!cborNestsAtMost(cbor, kMaxCborDepth))
    throw ArtifactError(source + ": unreadable payload (nested deeper than " +
                        std::to_string(kMaxCborDepth) +
                        " levels, which no gigac writes); recompile it");
  json payload;
  try {
    payload = json::from_cbor(cbor.begin(), cbor.end());
  } catch (const json::exception &error) {
    throw ArtifactError(source + ": unreadable payload (" + error.what() + ")");
  }
  return fromJson(payload, source);
}

void writeArtifact(const std::string &path, const Artifact &artifact) {
  writeFileAtomically(path, serialize(artifact));
}

Artifact readArtifact(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    if (error != ENOENT)
      throw ArtifactError(
          path + ": cannot open artifact: " + openFailureReason(error));
    throw ArtifactError(path +
                        ": cannot open artifact (does it exist? make "
                        "one with gigac compile CONFIG -o " +
                        path + ")");
  }
  std::stringstream bytes;
  bytes << file.rdbuf();
  return deserialize(bytes.str(), path);
}

} // namespace giga::artifact
