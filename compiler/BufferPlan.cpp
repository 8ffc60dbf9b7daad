//===- BufferPlan.cpp - activation arena offsets for a wafer program ------===//
#include "compiler/BufferPlan.h"
#include "dialects/giga/GigaDialect.h"
#include "dialects/wafer/WaferDialect.h"
#include "runtime/artifact/OpScratch.h"

#include "mlir/IR/SymbolTable.h"

#include <algorithm>
#include <limits>
#include <map>

using namespace mlir;

namespace giga {

namespace {
constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

int64_t tensorBytes(RankedTensorType type) {
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

RankedTensorType dropLeading(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return RankedTensorType::get(tensor.getShape().drop_front(),
                               tensor.getElementType());
}

SmallVector<func::FuncOp> findPrograms(ModuleOp module) {
  SmallVector<func::FuncOp> programs;
  for (auto function : module.getOps<func::FuncOp>())
    if (function->hasAttr(wafer::kProgramAttr))
      programs.push_back(function);
  return programs;
}

/// The first program holds the recorded plan.
func::FuncOp findProgram(ModuleOp module) {
  SmallVector<func::FuncOp> programs = findPrograms(module);
  return programs.empty() ? nullptr : programs.front();
}

/// First fit in time and space: each buffer takes the lowest offset that no
/// buffer live at the same time occupies. Returns the bytes used.
int64_t allocate(std::vector<PlannedBuffer> &buffers,
                 const std::vector<int> &indices, int64_t base) {
  std::vector<int> order(indices);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return buffers[a].bytes() > buffers[b].bytes();
  });
  std::vector<int> placed;
  int64_t used = 0;
  for (int index : order) {
    PlannedBuffer &buffer = buffers[index];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int other : placed) {
      const PlannedBuffer &o = buffers[other];
      if (o.start <= buffer.end && buffer.start <= o.end)
        busy.push_back({o.offset - base, o.offset - base + alignUp(o.bytes())});
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + alignUp(buffer.bytes()) <= begin)
        break;
      offset = std::max(offset, end);
    }
    buffer.offset = base + offset;
    used = std::max(used, offset + alignUp(buffer.bytes()));
    placed.push_back(index);
  }
  return used;
}

/// The scratch the runtime's ops of `kernel` need, as the runtime computes
/// it (aligned as the arena's buffers are).
int64_t opScratchBytes(Operation *kernel) {
  int64_t floats = 0;
  kernel->walk([&](Operation *op) {
    const artifact::OpSchema *schema =
        artifact::findOp(op->getName().stripDialect());
    if (!schema)
      return;
    artifact::Shapes inputs, outputs;
    for (Value operand : op->getOperands())
      if (auto type = dyn_cast<RankedTensorType>(operand.getType()))
        inputs.emplace_back(type.getShape().begin(), type.getShape().end());
    for (Value result : op->getResults())
      if (auto type = dyn_cast<RankedTensorType>(result.getType()))
        outputs.emplace_back(type.getShape().begin(), type.getShape().end());
    // Sizes depend on integer attributes only (a chunk).
    nlohmann::json attrs = nlohmann::json::object();
    for (NamedAttribute attr : op->getAttrs())
      if (auto integer = dyn_cast<IntegerAttr>(attr.getValue()))
        attrs[attr.getName().str()] = integer.getInt();
    floats = std::max(
        floats, artifact::opScratchFloats(schema->id, inputs, outputs, attrs));
  });
  return (4 * floats + 63) / 64 * 64;
}

class Planner {
public:
  explicit Planner(ModuleOp module) : module(module) {}

  FailureOr<BufferPlan> run() {
    SmallVector<func::FuncOp> programs = findPrograms(module);
    if (programs.empty())
      return module.emitError("no function is marked wafer.program; run "
                              "wafer-partition first");
    std::vector<std::vector<int>> programBuffers;
    for (func::FuncOp program : programs) {
      size_t first = plan.buffers.size();
      if (failed(planProgram(program)))
        return failure();
      programBuffers.emplace_back();
      for (int i = first, e = plan.buffers.size(); i < e; ++i)
        if (plan.buffers[i].program && !plan.buffers[i].state &&
            plan.buffers[i].aliasOf < 0)
          programBuffers.back().push_back(i);
    }
    std::vector<int> states;
    for (auto &[key, index] : stateBuffers)
      states.push_back(index);
    int64_t stateBytes = allocate(plan.buffers, states, 0);
    plan.programBytes = stateBytes;
    for (const std::vector<int> &indices : programBuffers)
      plan.programBytes =
          std::max(plan.programBytes,
                   stateBytes + allocate(plan.buffers, indices, stateBytes));
    for (auto &[kernel, indices] : kernelScratch) {
      int64_t bytes = allocate(plan.buffers, indices, plan.programBytes);
      plan.kernels[kernel].scratchBytes = bytes;
      plan.scratchBytes = std::max(plan.scratchBytes, bytes);
    }
    plan.opScratchOffset = plan.programBytes + plan.scratchBytes;
    for (auto &[kernel, kernelPlan] : plan.kernels) {
      kernelPlan.opScratchBytes = opScratchBytes(kernel);
      plan.opScratchBytes =
          std::max(plan.opScratchBytes, kernelPlan.opScratchBytes);
    }
    // The streaming region last: on a wafer it is the MemoryX stream, not
    // SRAM; the runtime reads weights from the store where it can, so much
    // of it is never touched.
    int64_t streamBase = plan.opScratchOffset + plan.opScratchBytes;
    for (auto &[kernel, indices] : kernelStreamed) {
      int64_t bytes = allocate(plan.buffers, indices, streamBase);
      plan.kernels[kernel].streamBytes = bytes;
      plan.streamBytes = std::max(plan.streamBytes, bytes);
    }
    for (PlannedBuffer &buffer : plan.buffers)
      if (buffer.aliasOf >= 0)
        buffer.offset = plan.buffers[root(buffer.aliasOf)].offset;
    plan.arenaBytes = streamBase + plan.streamBytes;
    return std::move(plan);
  }

private:
  int root(int index) const {
    while (plan.buffers[index].aliasOf >= 0)
      index = plan.buffers[index].aliasOf;
    return index;
  }

  int addBuffer(StringRef name, RankedTensorType type, int64_t layers,
                bool program, int start) {
    PlannedBuffer buffer;
    // Unique, since the recorded plan refers to buffers by name.
    unsigned &seen = names[name];
    buffer.name = seen++ ? (name + "." + Twine(seen)).str() : name.str();
    buffer.type = type;
    buffer.layers = layers;
    buffer.program = program;
    buffer.start = buffer.end = start;
    plan.buffers.push_back(buffer);
    return plan.buffers.size() - 1;
  }

  void extend(int index, int end) {
    index = root(index);
    plan.buffers[index].end = std::max(plan.buffers[index].end, end);
  }

  LogicalResult planProgram(func::FuncOp program);
  /// The state buffer of a kernel's giga.kv_cache: one per cache name and
  /// group, shared by every program, stacked per layer in a group.
  BufferRef stateBuffer(func::FuncOp kernel, KvCacheOp cache);
  LogicalResult planKernel(func::FuncOp kernel, wafer::InvokeOp invoke,
                           int invokeIndex);

  ModuleOp module;
  BufferPlan plan;
  llvm::StringMap<unsigned> names;
  std::vector<std::pair<Operation *, std::vector<int>>> kernelScratch;
  std::vector<std::pair<Operation *, std::vector<int>>> kernelStreamed;
  std::map<std::string, int> stateBuffers; // by group and cache name
};

BufferRef Planner::stateBuffer(func::FuncOp kernel, KvCacheOp cache) {
  bool grouped = kernel->hasAttr(wafer::kCarriedAttr);
  std::string group =
      kernel->getAttrOfType<StringAttr>(wafer::kGroupAttr).str();
  std::string name = (group.empty() ? "" : group + ".") + cache.getName().str();
  auto [it, inserted] = stateBuffers.insert({name, -1});
  if (inserted) {
    int64_t layers =
        kernel->getAttrOfType<IntegerAttr>(wafer::kLayersAttr).getInt();
    it->second = addBuffer(name, cast<RankedTensorType>(cache.getType()),
                           grouped ? layers : 0, /*program=*/true, 0);
    plan.buffers[it->second].state = true;
    plan.buffers[it->second].end = std::numeric_limits<int>::max();
  }
  return {it->second, grouped};
}

LogicalResult Planner::planProgram(func::FuncOp program) {
  Block &body = program.getBody().front();
  DenseMap<Operation *, int> position;
  int index = 0;
  for (Operation &op : body)
    position[&op] = index++;
  auto lastUse = [&](Value value) {
    int last = -1;
    for (Operation *user : value.getUsers())
      last = std::max(last, position.lookup(user));
    return last;
  };

  for (BlockArgument argument : program.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (!type || type.getRank() == 0)
      continue; // the step number goes to the store, not the arena
    // The entry point's inputs: named by the frontend, or the training
    // step's (TrainingEntryPoints.h).
    unsigned number = argument.getArgNumber();
    std::string name = number == 0   ? "tokens"
                       : number == 1 ? "targets"
                                     : "arg" + std::to_string(number);
    if (auto binding =
            program.getArgAttrOfType<StringAttr>(number, kBindingAttr))
      name = binding.str();
    int buffer = addBuffer(name, type, 0, true, -1);
    plan.buffers[buffer].end = std::max(lastUse(argument), 0);
    plan.refs[argument] = {buffer, false};
  }

  SymbolTable symbols(module);
  std::set<Operation *> invoked;
  for (Operation &op : body) {
    auto invoke = dyn_cast<wafer::InvokeOp>(op);
    if (!invoke)
      continue;
    auto kernel = symbols.lookup<func::FuncOp>(invoke.getKernel());
    if (!invoked.insert(kernel).second)
      return invoke.emitOpError("invokes @")
             << invoke.getKernel()
             << " a second time; the artifact runs each kernel once per "
                "micro-batch";
    int at = position[invoke];
    int64_t carried = 0, layers = 1;
    if (auto attr = kernel->getAttrOfType<IntegerAttr>(wafer::kCarriedAttr))
      carried = attr.getInt();
    if (auto attr = kernel->getAttrOfType<IntegerAttr>(wafer::kLayersAttr))
      layers = attr.getInt();
    bool grouped = kernel->hasAttr(wafer::kCarriedAttr);
    // Before the results: a carried result takes its operand's buffer.
    for (Value arg : invoke.getArgs())
      if (!plan.refs.count(arg))
        return invoke.emitOpError("reads a value the plan has no buffer for");
    for (auto [i, result] : llvm::enumerate(invoke.getResults())) {
      if (grouped && int64_t(i) < carried) {
        // The carried value stays in its buffer from layer to layer.
        Value init = invoke.getArgs()[i];
        if (lastUse(init) > at)
          return invoke.emitOpError("carries operand #")
                 << i
                 << ", which is used again after the invocation; the "
                    "carried buffer is updated in place";
        BufferRef ref = plan.refs.lookup(init);
        plan.refs[result] = ref;
        extend(ref.buffer, lastUse(result));
        continue;
      }
      auto type = cast<RankedTensorType>(result.getType());
      bool stacked = grouped;
      int buffer = addBuffer(
          (invoke.getKernel() + "#" + std::to_string(i)).str(),
          stacked ? dropLeading(type) : type, stacked ? layers : 0, true, at);
      plan.buffers[buffer].end = std::max(lastUse(result), at);
      plan.refs[result] = {buffer, false};
    }
    if (failed(planKernel(kernel, invoke, at)))
      return failure();
  }
  return success();
}

LogicalResult Planner::planKernel(func::FuncOp kernel, wafer::InvokeOp invoke,
                                  int) {
  KernelPlan &kernelPlan = plan.kernels[kernel];
  std::vector<int> scratch, streamed;
  Block &body = kernel.getBody().front();
  bool grouped = kernel->hasAttr(wafer::kCarriedAttr);
  int64_t carried = 0, sliced = 0;
  if (grouped) {
    carried = kernel->getAttrOfType<IntegerAttr>(wafer::kCarriedAttr).getInt();
    sliced = kernel->getAttrOfType<IntegerAttr>(wafer::kSlicedAttr).getInt();
  }
  for (auto [i, argument] : llvm::enumerate(body.getArguments())) {
    BufferRef ref = plan.refs.lookup(invoke.getArgs()[i]);
    ref.perLayer =
        grouped && int64_t(i) >= carried && int64_t(i) < carried + sliced;
    plan.refs[argument] = ref;
  }

  DenseMap<Operation *, int> position;
  int index = 0;
  for (Operation &op : body)
    position[&op] = index++;
  auto lastUse = [&](Value value) {
    int last =
        position.lookup(value.getParentBlock() == &body && value.getDefiningOp()
                            ? value.getDefiningOp()
                            : nullptr);
    // A gradient streams out where its wafer.stream_out sits (the artifact
    // writer records the op it follows), so its bytes are free after that.
    for (Operation *user : value.getUsers())
      last = std::max(last, position.lookup(user));
    return last;
  };

  // Where each returned value must end up.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  DenseMap<Value, BufferRef> target;
  std::vector<std::pair<Value, BufferRef>> copies;
  for (auto [j, value] : llvm::enumerate(ret.getOperands())) {
    BufferRef to;
    if (grouped && int64_t(j) < carried) {
      // Computed into scratch, then copied into the carried buffer once the
      // layer is done with its input.
      int yield =
          addBuffer((kernel.getSymName() + ".carry" + Twine(j)).str(),
                    cast<RankedTensorType>(value.getType()), 0, false, 0);
      plan.buffers[yield].end = int(body.getOperations().size());
      scratch.push_back(yield);
      kernelPlan.carry.push_back(
          {plan.refs.lookup(body.getArgument(j)).buffer, yield});
      to = {yield, false};
    } else {
      to = plan.refs.lookup(invoke.getResult(j));
      to.perLayer = grouped;
    }
    Operation *def = value.getDefiningOp();
    bool inPlace = def && def->getBlock() == &body &&
                   !isa<wafer::StreamInOp, ReshapeOp>(def) &&
                   !target.count(value);
    if (inPlace)
      target[value] = to;
    else
      copies.push_back({value, to});
  }

  for (Operation &op : body.without_terminator()) {
    for (Value result : op.getResults()) {
      auto type = cast<RankedTensorType>(result.getType());
      if (auto cache = dyn_cast<KvCacheOp>(op)) {
        if (target.count(result))
          return cache.emitOpError("is returned by its kernel; a KV cache "
                                   "is state, read it where it is written");
        plan.refs[result] = stateBuffer(kernel, cache);
        continue;
      }
      if (auto it = target.find(result); it != target.end()) {
        plan.refs[result] = it->second;
        continue;
      }
      if (isa<ReshapeOp>(op)) {
        BufferRef input = plan.refs.lookup(op.getOperand(0));
        int alias = addBuffer(plan.buffers[input.buffer].name + ".view", type,
                              plan.buffers[input.buffer].layers,
                              plan.buffers[input.buffer].program, 0);
        plan.buffers[alias].aliasOf = input.buffer;
        plan.refs[result] = {alias, input.perLayer};
        if (!plan.buffers[root(input.buffer)].program)
          extend(input.buffer, lastUse(result));
        continue;
      }
      // Weights streaming in and gradients streaming out pass through the
      // wafer rather than stay on it: they go to the streaming region.
      bool isWeight = isa<wafer::StreamInOp>(op);
      bool streams =
          isWeight || (!result.use_empty() &&
                       llvm::all_of(result.getUsers(), [](Operation *user) {
                         return isa<wafer::StreamOutOp>(user);
                       }));
      int buffer =
          addBuffer((kernel.getSymName() + "." + op.getName().stripDialect() +
                     "#" + Twine(position[&op]))
                        .str(),
                    type, 0, false, isWeight ? 0 : position[&op]);
      plan.buffers[buffer].end = lastUse(result);
      plan.refs[result] = {buffer, false};
      (streams ? streamed : scratch).push_back(buffer);
    }
  }
  // Copies run after the ops: their sources live to the end.
  for (auto &[value, to] : copies) {
    BufferRef from = plan.refs.lookup(value);
    if (!plan.buffers[root(from.buffer)].program)
      extend(from.buffer, index);
    kernelPlan.copies.push_back({from, to});
  }
  for (auto &[value, to] : copies)
    if (!plan.buffers[root(to.buffer)].program)
      extend(to.buffer, index);
  kernelScratch.push_back({kernel, scratch});
  kernelStreamed.push_back({kernel, streamed});
  return success();
}
} // namespace

int64_t PlannedBuffer::bytes() const {
  return tensorBytes(type) * (layers > 0 ? layers : 1);
}

FailureOr<BufferPlan> planBuffers(ModuleOp module) {
  return Planner(module).run();
}

namespace {
constexpr const char *kBufferTableAttr = "wafer.buffer_table";
constexpr const char *kBuffersAttr = "wafer.buffers";
constexpr const char *kArgBuffersAttr = "wafer.arg_buffers";
constexpr const char *kScratchBytesAttr = "wafer.scratch_bytes";
constexpr const char *kOpScratchBytesAttr = "wafer.op_scratch_bytes";
constexpr const char *kCopiesAttr = "wafer.copies";
constexpr const char *kCarryAttr = "wafer.carry";
constexpr const char *kProgramBytesAttr = "wafer.program_bytes";
constexpr const char *kOpScratchOffsetAttr = "wafer.op_scratch_offset";
constexpr const char *kStagingBytesAttr = "wafer.staging_bytes";
constexpr const char *kArenaBytesAttr = "wafer.arena_bytes";

/// A kernel's view of one layer of a stacked buffer is written "name[layer]".
constexpr StringLiteral kLayerSlice = "[layer]";

/// Writes buffer references by name, so that the IR reads on its own.
class PlanRecorder {
public:
  PlanRecorder(ModuleOp module, const BufferPlan &plan)
      : builder(module.getContext()), plan(plan) {}

  StringAttr ref(const BufferRef &ref) {
    if (ref.buffer < 0)
      return builder.getStringAttr("");
    return builder.getStringAttr(plan.buffers[ref.buffer].name +
                                 (ref.perLayer ? kLayerSlice.str() : ""));
  }

  ArrayAttr refsOf(ValueRange values) {
    SmallVector<Attribute> refs;
    for (Value value : values)
      refs.push_back(ref(plan.refs.lookup(value)));
    return builder.getArrayAttr(refs);
  }

  ArrayAttr pair(StringAttr from, StringAttr to) {
    return builder.getArrayAttr({from, to});
  }

  ArrayAttr table() {
    SmallVector<Attribute> entries;
    for (const PlannedBuffer &buffer : plan.buffers)
      entries.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("name", builder.getStringAttr(buffer.name)),
           builder.getNamedAttr("type", TypeAttr::get(buffer.type)),
           builder.getNamedAttr("layers",
                                builder.getI64IntegerAttr(buffer.layers)),
           builder.getNamedAttr("offset",
                                builder.getI64IntegerAttr(buffer.offset)),
           builder.getNamedAttr("state", builder.getBoolAttr(buffer.state))}));
    return builder.getArrayAttr(entries);
  }

  Builder builder;
  const BufferPlan &plan;
};
} // namespace

void recordBufferPlan(ModuleOp module, const BufferPlan &plan) {
  PlanRecorder recorder(module, plan);
  Builder &builder = recorder.builder;
  module.walk([&](Operation *op) {
    if (op->getNumResults() > 0 && !isa<ModuleOp>(op))
      op->setAttr(kBuffersAttr, recorder.refsOf(op->getResults()));
  });
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.getBody().empty())
      continue;
    function->setAttr(kArgBuffersAttr,
                      recorder.refsOf(function.getArguments()));
    auto kernel = plan.kernels.find(function);
    if (kernel == plan.kernels.end())
      continue;
    const KernelPlan &kernelPlan = kernel->second;
    SmallVector<Attribute> copies, carry;
    for (auto [from, to] : kernelPlan.copies)
      copies.push_back(recorder.pair(recorder.ref(from), recorder.ref(to)));
    for (auto [carried, yielded] : kernelPlan.carry)
      carry.push_back(recorder.pair(recorder.ref({carried, false}),
                                    recorder.ref({yielded, false})));
    function->setAttr(kScratchBytesAttr,
                      builder.getI64IntegerAttr(kernelPlan.scratchBytes));
    function->setAttr(kOpScratchBytesAttr,
                      builder.getI64IntegerAttr(kernelPlan.opScratchBytes));
    function->setAttr(kCopiesAttr, builder.getArrayAttr(copies));
    function->setAttr(kCarryAttr, builder.getArrayAttr(carry));
  }
  func::FuncOp program = findProgram(module);
  auto setBytes = [&](const char *name, int64_t bytes) {
    program->setAttr(name, builder.getI64IntegerAttr(bytes));
  };
  program->setAttr(kBufferTableAttr, recorder.table());
  setBytes(kProgramBytesAttr, plan.programBytes);
  setBytes(kScratchBytesAttr, plan.scratchBytes);
  setBytes(kOpScratchOffsetAttr, plan.opScratchOffset);
  setBytes(kOpScratchBytesAttr, plan.opScratchBytes);
  setBytes(kStagingBytesAttr, plan.streamBytes);
  setBytes(kArenaBytesAttr, plan.arenaBytes);
}

namespace {
/// Reads back what PlanRecorder wrote, reporting on the op whose attribute
/// is missing or malformed.
class PlanReader {
public:
  explicit PlanReader(func::FuncOp program) : program(program) {}

  LogicalResult readTable() {
    auto table = program->getAttrOfType<ArrayAttr>(kBufferTableAttr);
    if (!table)
      return missing(program, kBufferTableAttr);
    for (Attribute entry : table) {
      auto dict = dyn_cast<DictionaryAttr>(entry);
      auto name = dict ? dict.getAs<StringAttr>("name") : nullptr;
      auto type = dict ? dict.getAs<TypeAttr>("type") : nullptr;
      auto layers = dict ? dict.getAs<IntegerAttr>("layers") : nullptr;
      auto offset = dict ? dict.getAs<IntegerAttr>("offset") : nullptr;
      auto state = dict ? dict.getAs<BoolAttr>("state") : nullptr;
      if (!name || !type || !isa<RankedTensorType>(type.getValue()) ||
          !layers || !offset || !state)
        return program.emitOpError("has a ")
               << kBufferTableAttr
               << " entry without a name, tensor type, layers, offset and "
                  "state: "
               << entry;
      PlannedBuffer buffer;
      buffer.name = name.str();
      buffer.type = cast<RankedTensorType>(type.getValue());
      buffer.layers = layers.getInt();
      buffer.offset = offset.getInt();
      buffer.state = state.getValue();
      index[buffer.name] = plan.buffers.size();
      plan.buffers.push_back(std::move(buffer));
    }
    return success();
  }

  FailureOr<BufferRef> ref(Attribute attr, Operation *at) {
    auto text = dyn_cast<StringAttr>(attr);
    if (!text)
      return at->emitOpError("refers to a buffer by ")
             << attr << ", not by name";
    if (text.getValue().empty())
      return BufferRef{};
    StringRef name = text.getValue();
    bool perLayer = name.consume_back(kLayerSlice);
    auto it = index.find(name);
    if (it == index.end())
      return at->emitOpError("refers to buffer '")
             << name << "', which the " << kBufferTableAttr << " lacks";
    return BufferRef{int(it->second), perLayer};
  }

  LogicalResult readRefs(Operation *op, const char *attrName,
                         ValueRange values) {
    auto refs = op->getAttrOfType<ArrayAttr>(attrName);
    if (!refs)
      return missing(op, attrName);
    if (refs.size() != values.size())
      return op->emitOpError("has ")
             << refs.size() << " entries in " << attrName << " for "
             << values.size() << " values";
    for (auto [attr, value] : llvm::zip(refs, values)) {
      FailureOr<BufferRef> parsed = ref(attr, op);
      if (failed(parsed))
        return failure();
      if (parsed->buffer >= 0)
        plan.refs[value] = *parsed;
    }
    return success();
  }

  FailureOr<std::vector<std::pair<BufferRef, BufferRef>>>
  pairs(Operation *op, const char *attrName) {
    auto list = op->getAttrOfType<ArrayAttr>(attrName);
    if (!list)
      return missing(op, attrName);
    std::vector<std::pair<BufferRef, BufferRef>> result;
    for (Attribute entry : list) {
      auto pair = dyn_cast<ArrayAttr>(entry);
      if (!pair || pair.size() != 2)
        return op->emitOpError("has a ")
               << attrName << " entry that is not a [from, to] pair: " << entry;
      FailureOr<BufferRef> from = ref(pair[0], op), to = ref(pair[1], op);
      if (failed(from) || failed(to))
        return failure();
      result.push_back({*from, *to});
    }
    return result;
  }

  FailureOr<int64_t> bytes(Operation *op, const char *attrName) {
    auto attr = op->getAttrOfType<IntegerAttr>(attrName);
    if (!attr)
      return missing(op, attrName);
    return attr.getInt();
  }

  LogicalResult readKernel(func::FuncOp kernel) {
    KernelPlan &kernelPlan = plan.kernels[kernel];
    FailureOr<int64_t> scratch = bytes(kernel, kScratchBytesAttr),
                       opScratch = bytes(kernel, kOpScratchBytesAttr);
    auto copies = pairs(kernel, kCopiesAttr), carry = pairs(kernel, kCarryAttr);
    if (failed(scratch) || failed(opScratch) || failed(copies) || failed(carry))
      return failure();
    kernelPlan.scratchBytes = *scratch;
    kernelPlan.opScratchBytes = *opScratch;
    kernelPlan.copies = std::move(*copies);
    for (auto [carried, yielded] : *carry)
      kernelPlan.carry.push_back({carried.buffer, yielded.buffer});
    return success();
  }

  LogicalResult readTotals() {
    struct Field {
      const char *name;
      int64_t *bytes;
    } fields[] = {{kProgramBytesAttr, &plan.programBytes},
                  {kScratchBytesAttr, &plan.scratchBytes},
                  {kOpScratchOffsetAttr, &plan.opScratchOffset},
                  {kOpScratchBytesAttr, &plan.opScratchBytes},
                  {kStagingBytesAttr, &plan.streamBytes},
                  {kArenaBytesAttr, &plan.arenaBytes}};
    for (Field field : fields) {
      FailureOr<int64_t> value = bytes(program, field.name);
      if (failed(value))
        return failure();
      *field.bytes = *value;
    }
    return success();
  }

  LogicalResult missing(Operation *op, StringRef attrName) {
    return op->emitOpError("has no ")
           << attrName
           << ": the buffer plan is recorded by wafer-plan-buffers, which "
              "must run before wafer-place and the artifact writer";
  }

  func::FuncOp program;
  BufferPlan plan;
  llvm::StringMap<size_t> index;
};
} // namespace

FailureOr<BufferPlan> readBufferPlan(ModuleOp module) {
  func::FuncOp program = findProgram(module);
  if (!program)
    return module.emitError("no function is marked wafer.program; run "
                            "wafer-partition first");
  PlanReader reader(program);
  if (failed(reader.readTable()) || failed(reader.readTotals()))
    return failure();
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.getBody().empty())
      continue;
    if (failed(reader.readRefs(function, kArgBuffersAttr,
                               function.getArguments())))
      return failure();
    if (function->hasAttr(wafer::kKernelAttr) &&
        failed(reader.readKernel(function)))
      return failure();
    WalkResult walk = function.walk([&](Operation *op) {
      if (op->getNumResults() == 0)
        return WalkResult::advance();
      return failed(reader.readRefs(op, kBuffersAttr, op->getResults()))
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  return std::move(reader.plan);
}

} // namespace giga
