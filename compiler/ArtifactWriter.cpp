//===- ArtifactWriter.cpp - a planned wafer program as step.wafer ---------===//
#include "compiler/ArtifactWriter.h"
#include "compiler/BufferPlan.h"
#include "dialects/giga/GigaDialect.h"
#include "dialects/wafer/WaferDialect.h"
#include "runtime/artifact/OpSchema.h"
#include "runtime/artifact/TrainingEntryPoints.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace giga {
namespace {

artifact::DType dtypeOf(RankedTensorType type) {
  Type element = type.getElementType();
  if (element.isF32())
    return artifact::DType::F32;
  if (element.isInteger(64))
    return artifact::DType::I64;
  return artifact::DType::I32;
}

/// The attributes of `op` that the artifact's op schema names, by their
/// schema types; the dialect's attribute names are the schema's.
FailureOr<nlohmann::json> attributesOf(Operation *op,
                                       const artifact::OpSchema &schema) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const artifact::AttrSchema &attr : schema.attrs) {
    Attribute value = op->getAttr(attr.name);
    switch (attr.type) {
    case artifact::AttrType::Flag:
      if (auto flag = dyn_cast_or_null<BoolAttr>(value))
        attrs[attr.name] = flag.getValue();
      else
        attrs[attr.name] = isa_and_nonnull<UnitAttr>(value);
      continue;
    case artifact::AttrType::Number:
      if (auto number = dyn_cast_or_null<FloatAttr>(value)) {
        attrs[attr.name] = number.getValueAsDouble();
        continue;
      }
      break;
    case artifact::AttrType::Integer:
      if (auto integer = dyn_cast_or_null<IntegerAttr>(value)) {
        attrs[attr.name] = integer.getInt();
        continue;
      }
      break;
    case artifact::AttrType::Integers:
      if (auto array = dyn_cast_or_null<DenseI64ArrayAttr>(value)) {
        attrs[attr.name] = std::vector<int64_t>(array.asArrayRef().begin(),
                                                array.asArrayRef().end());
        continue;
      }
      break;
    }
    return op->emitOpError("needs attribute '")
           << attr.name << "' (" << artifact::toString(attr.type)
           << ") for the artifact's '" << schema.name
           << "' op (runtime/artifact/Ops.def)";
  }
  return attrs;
}

artifact::Operand operandOf(const BufferRef &ref) {
  return {ref.buffer, ref.perLayer};
}

/// Attention's two T×Tk products per layer, forward and backward:
/// 3 × 2 × (2·B·H·T·Tk·D), the attention term of PaLM's model FLOPs
/// (appendix B, Tk = T), counted from the op so any model in the dialect is
/// counted.
double attentionModelFlops(AttentionOp attention) {
  ArrayRef<int64_t> q = cast<RankedTensorType>(attention.getQuery().getType())
                            .getShape(); // [B, H, T, D]
  int64_t keys =
      cast<RankedTensorType>(attention.getKey().getType()).getShape()[2];
  return 12.0 * double(q[0]) * double(q[1]) * double(q[2]) * double(keys) *
         double(q[3]);
}

double numberAttr(Operation *op, StringRef name, double fallback) {
  if (auto attr = op->getAttrOfType<FloatAttr>(name))
    return attr.getValueAsDouble();
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return double(attr.getInt());
  return fallback;
}

/// An entry point of its own (kEntryAttr): its inputs and outputs are the
/// function's arguments and results, named and ranged by the frontend.
FailureOr<artifact::EntryPoint> namedEntryPoint(func::FuncOp program,
                                                const BufferPlan &plan,
                                                const std::string &name) {
  artifact::EntryPoint entry;
  entry.name = name;
  auto bindingName = [&](StringAttr attr, const char *what,
                         unsigned index) -> FailureOr<std::string> {
    if (!attr)
      return program.emitOpError(what)
             << " #" << index << " has no " << kBindingAttr
             << " name; an entry point's inputs and outputs are named";
    return attr.str();
  };
  for (BlockArgument argument : program.getArguments()) {
    unsigned i = argument.getArgNumber();
    FailureOr<std::string> argName = bindingName(
        program.getArgAttrOfType<StringAttr>(i, kBindingAttr), "argument", i);
    if (failed(argName))
      return failure();
    int64_t limit = 0;
    if (auto attr = program.getArgAttrOfType<IntegerAttr>(i, kLimitAttr))
      limit = attr.getInt();
    entry.inputs.push_back(
        {*argName, plan.refs.lookup(argument).buffer, limit});
  }
  Operation *results = program.getBody().front().getTerminator();
  for (auto [i, value] : llvm::enumerate(results->getOperands())) {
    FailureOr<std::string> resultName = bindingName(
        program.getResultAttrOfType<StringAttr>(i, kBindingAttr), "result", i);
    if (failed(resultName))
      return failure();
    entry.outputs.push_back({*resultName, plan.refs.lookup(value).buffer, 0});
  }
  return entry;
}

/// A generation artifact's sizes: samples per call and the KV cache's
/// positions; it has no optimizer and no training step.
FailureOr<artifact::Artifact> finishGeneration(ModuleOp module,
                                               artifact::Artifact &a) {
  auto context = module->getAttrOfType<IntegerAttr>(kContextAttr);
  if (!context || context.getInt() < 1)
    return module.emitError("a module of entry points needs ")
           << kContextAttr << ", the positions its KV caches hold";
  for (const artifact::EntryPoint &entry : a.entryPoints)
    for (const artifact::Binding &input : entry.inputs) {
      const artifact::Buffer &buffer = a.buffers[input.buffer];
      if (buffer.type.shape.size() == 2 && a.batchSize == 0)
        a.batchSize = a.microBatch = buffer.type.shape[0];
    }
  if (a.batchSize == 0)
    return module.emitError("no entry point takes [batch, tokens] ids");
  a.sequenceLength = context.getInt();
  if (auto report = module->getAttrOfType<StringAttr>("wafer.report"))
    a.report = nlohmann::json::parse(report.getValue().str(), nullptr, false);
  return std::move(a);
}

} // namespace

FailureOr<artifact::Artifact> buildArtifact(ModuleOp module,
                                            const nlohmann::json &config,
                                            const nlohmann::json &target) {
  FailureOr<BufferPlan> plan = readBufferPlan(module);
  if (failed(plan))
    return failure();
  artifact::Artifact a;
  a.config = config;
  a.target = target;

  std::map<std::pair<std::string, std::string>, int32_t> paramIndex;
  for (auto param : module.getOps<wafer::ParamOp>()) {
    artifact::Parameter p;
    p.name = param.getName().str();
    p.group = param.getGroup().str();
    p.layers = param.getLayers();
    auto type = cast<RankedTensorType>(param.getParamType());
    p.shape.assign(type.getShape().begin(), type.getShape().end());
    p.init = param.getInit().str();
    p.std = param.getStd().convertToDouble();
    p.weightDecay = param.getWeightDecay().convertToDouble();
    if (artifact::checkedElements(p.shape, p.layers) < 0)
      return param.emitOpError("has ")
             << p.layers << " layers of " << type
             << ": more than 2^56 elements, beyond any model the runtime "
                "loads; check the model's sizes";
    paramIndex[{p.group, p.name}] = a.params.size();
    a.params.push_back(std::move(p));
  }

  for (const PlannedBuffer &planned : plan->buffers) {
    artifact::Buffer buffer;
    buffer.name = planned.name;
    buffer.type.dtype = dtypeOf(planned.type);
    buffer.type.shape.assign(planned.type.getShape().begin(),
                             planned.type.getShape().end());
    buffer.offset = planned.offset;
    buffer.layers = planned.layers;
    buffer.state = planned.state;
    if (artifact::checkedElements(buffer.type.shape,
                                  std::max<int64_t>(buffer.layers, 1)) < 0)
      return module.emitError("buffer '")
             << buffer.name << "' of type " << planned.type
             << " has more than 2^56 elements, beyond any model the runtime "
                "loads; check the model's sizes";
    a.buffers.push_back(std::move(buffer));
  }
  a.arenaBytes = plan->arenaBytes;
  a.opScratchOffset = plan->opScratchOffset;
  a.opScratchBytes = plan->opScratchBytes;

  SymbolTable symbols(module);
  wafer::UpdateOp update;
  double attentionFlopsPerMicroBatch = 0.0;
  int32_t logits = -1; // the loss's input
  int64_t vocab = -1;  // its last dimension: the range of ids and targets
  std::vector<bool> evalOnly; // per kernel: eval_step runs it, train_step not
  func::FuncOp trainingStep;
  for (auto program : module.getOps<func::FuncOp>()) {
    if (!program->hasAttr(wafer::kProgramAttr))
      continue;
    auto entryName = program->getAttrOfType<StringAttr>(kEntryAttr);
    if (!entryName)
      trainingStep = program;
    artifact::EntryPoint entry;
    for (Operation &op : program.getBody().front()) {
      if (auto u = dyn_cast<wafer::UpdateOp>(op))
        update = u;
      auto invoke = dyn_cast<wafer::InvokeOp>(op);
      if (!invoke)
        continue;
      entry.commands.push_back(
          {artifact::Command::Kind::Invoke, int32_t(a.kernels.size())});
      auto function = symbols.lookup<func::FuncOp>(invoke.getKernel());
      artifact::Kernel kernel;
      kernel.name = function.getSymName().str();
      kernel.group =
          function->getAttrOfType<StringAttr>(wafer::kGroupAttr).str();
      kernel.layers =
          function->getAttrOfType<IntegerAttr>(wafer::kLayersAttr).getInt();
      kernel.reverse = function->hasAttr(wafer::kReverseAttr);
      kernel.backward = function->hasAttr(wafer::kBackwardAttr);
      evalOnly.push_back(function->hasAttr(wafer::kEvalOnlyAttr));
      auto lookupParam = [&](StringRef name) {
        auto it = paramIndex.find({kernel.group, name.str()});
        if (it == paramIndex.end())
          it = paramIndex.find({"", name.str()});
        return it->second;
      };
      for (Operation &inner : function.getBody().front()) {
        if (auto in = dyn_cast<wafer::StreamInOp>(inner)) {
          kernel.streamIn.push_back(
              {lookupParam(in.getName()), operandOf(plan->refs.lookup(in))});
        } else if (auto out = dyn_cast<wafer::StreamOutOp>(inner)) {
          // Right after the op before it (the plan frees its bytes there).
          kernel.streamOut.push_back(
              {operandOf(plan->refs.lookup(out.getGrad())),
               lookupParam(out.getName()), int32_t(kernel.ops.size()) - 1});
        } else if (!isa<ReshapeOp, func::ReturnOp>(inner)) {
          artifact::Op op;
          op.kernel = inner.getName().stripDialect().str();
          const artifact::OpSchema *schema = artifact::findOp(op.kernel);
          if (!schema)
            return inner.emitOpError("has no runtime op of that name in the "
                                     "artifact's op schema "
                                     "(runtime/artifact/Ops.def)");
          FailureOr<nlohmann::json> attrs = attributesOf(&inner, *schema);
          if (failed(attrs))
            return failure();
          for (Value operand : inner.getOperands())
            op.inputs.push_back(operandOf(plan->refs.lookup(operand)));
          for (Value result : inner.getResults())
            op.outputs.push_back(operandOf(plan->refs.lookup(result)));
          op.attrs = std::move(*attrs);
          kernel.ops.push_back(std::move(op));
          if (auto attention = dyn_cast<AttentionOp>(inner);
              attention && !kernel.backward)
            attentionFlopsPerMicroBatch +=
                attentionModelFlops(attention) * double(kernel.layers);
          if (auto loss = dyn_cast<CrossEntropyOp>(inner)) {
            logits = plan->refs.lookup(loss.getLogits()).buffer;
            vocab = cast<RankedTensorType>(loss.getLogits().getType())
                        .getShape()
                        .back();
          }
          if (auto loss = dyn_cast<LinearCrossEntropyOp>(inner)) // no logits
            vocab = cast<RankedTensorType>(loss.getWeight().getType())
                        .getShape()
                        .front();
        }
      }
      const KernelPlan &kernelPlan = plan->kernels.lookup(function);
      for (auto [from, to] : kernelPlan.copies)
        kernel.ops.push_back({artifact::opSchema(artifact::OpId::Copy).name,
                              {operandOf(from)},
                              {operandOf(to)},
                              {}});
      kernel.carry = kernelPlan.carry;
      artifact::Placement &placement = kernel.placement;
      placement.pes = int64_t(numberAttr(function, "wafer.pes", 0));
      placement.sramBytes =
          int64_t(numberAttr(function, "wafer.sram_bytes", 0));
      placement.flops = numberAttr(function, "wafer.flops", 0);
      placement.computeCycles = numberAttr(function, "wafer.compute_cycles", 0);
      placement.streamCycles = numberAttr(function, "wafer.stream_cycles", 0);
      placement.streamBytes =
          int64_t(numberAttr(function, "wafer.stream_bytes", 0));
      a.kernels.push_back(std::move(kernel));
    }
    if (entryName) {
      FailureOr<artifact::EntryPoint> generation =
          namedEntryPoint(program, *plan, entryName.str());
      if (failed(generation))
        return failure();
      generation->commands = std::move(entry.commands);
      a.entryPoints.push_back(std::move(*generation));
    }
  }
  if (!trainingStep)
    return finishGeneration(module, a);
  func::FuncOp program = trainingStep;
  if (!update)
    return program.emitOpError("has no wafer.update");

  artifact::Optimizer &o = a.optimizer;
  o.kind = update.getOptimizer().str();
  o.beta1 = update.getBeta1().convertToDouble();
  o.beta2 = update.getBeta2().convertToDouble();
  o.epsilon = update.getEpsilon().convertToDouble();
  o.momentum = update.getMomentum().convertToDouble();
  o.learningRate = update.getLearningRate().convertToDouble();
  o.warmupSteps = update.getWarmupSteps();
  o.decaySteps = update.getDecaySteps();
  o.minLrRatio = update.getMinLrRatio().convertToDouble();
  o.maxGradientNorm = update.getMaxGradientNorm().convertToDouble();

  Block &entry = program.getBody().front();
  if (program.getNumArguments() < 2)
    return program.emitOpError("must take the tokens and the targets");
  auto tokens = cast<RankedTensorType>(entry.getArgument(0).getType());
  if (tokens.getRank() != 2 || !tokens.getElementType().isInteger(32))
    return program.emitOpError("must take tokens as [batch, sequence] i32, "
                               "as gigarun feeds them, not ")
           << tokens;
  a.microBatch = tokens.getShape()[0];
  a.sequenceLength = tokens.getShape()[1];
  // The frontend built one system's share of the batch (run.num_systems).
  if (auto run = module->getAttrOfType<DictionaryAttr>("giga.run"))
    if (auto systems = run.getAs<IntegerAttr>("num_systems"))
      a.systems = systems.getInt();
  if (a.systems < 1)
    return module.emitError("giga.run num_systems must be at least 1, not ")
           << a.systems;
  a.batchSize = a.microBatch * update.getAccumulation() * a.systems;
  // Model FLOPs for MFU: 6 per parameter and token (matmuls forward and
  // backward) plus attention; recomputation is not model work.
  a.modelFlopsPerStep =
      6.0 * double(a.parameterCount()) * double(a.batchSize) *
          double(a.sequenceLength) +
      attentionFlopsPerMicroBatch * double(a.accumulation() * a.systems);
  if (vocab < 0)
    return program.emitOpError("computes no giga.cross_entropy or "
                               "giga.linear_cross_entropy loss");
  // A second result is the loss as train_step computes it (wafer-partition:
  // a fused loss's gradient), when the first comes from an eval-only kernel.
  Operation *results = entry.getTerminator();
  a.entryPoints = artifact::training::entryPoints(
      a, plan->refs.lookup(entry.getArgument(0)).buffer,
      plan->refs.lookup(entry.getArgument(1)).buffer,
      plan->refs.lookup(results->getOperand(0)).buffer, logits, vocab,
      results->getNumOperands() > 1
          ? plan->refs.lookup(results->getOperand(1)).buffer
          : -1,
      evalOnly);
  if (auto report = module->getAttrOfType<StringAttr>("wafer.report"))
    a.report = nlohmann::json::parse(report.getValue().str(), nullptr, false);
  return a;
}

} // namespace giga
