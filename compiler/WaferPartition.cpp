//===- WaferPartition.cpp - the training step as per-layer kernels --------===//
#include "compiler/Passes.h"
#include "dialects/wafer/WaferDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace giga {
#define GEN_PASS_DEF_WAFERPARTITION
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

/// Ops that every kernel declares or computes again rather than receive:
/// parameters (streamed in) and operand-free constants (iota, masks, fills).
bool isRematerialized(Operation *op) {
  return isa<ParamOp>(op) ||
         (op->getNumOperands() == 0 && op->getNumRegions() == 0 && isPure(op));
}

/// A run of top-level ops that becomes one kernel: a giga.repeat, or
/// consecutive ops of one direction between repeats.
struct Segment {
  SmallVector<Operation *> ops;
  RepeatOp repeat;
  bool backward = false;
  bool evalOnly = false;
  std::string name;
};

class Partitioner {
public:
  /// Kernel names start with `prefix` (an entry point's name) when there is
  /// one: the kernels of several programs share the module.
  Partitioner(ModuleOp module, func::FuncOp step, bool requireOptimizer,
              std::string prefix)
      : module(module), step(step), builder(module.getContext()),
        requireOptimizer(requireOptimizer), prefix(std::move(prefix)) {}

  LogicalResult run() {
    if (failed(buildParameterTable()) || failed(buildUpdate()))
      return failure();
    SmallVector<Segment> segments = segment();
    for (Segment &segment : segments)
      if (failed(outline(segment)))
        return failure();
    // What is left of the forward body: parameters and constants, now
    // declared inside the kernels.
    SmallVector<Operation *> leftovers;
    for (Operation &op : step.getBody().front().without_terminator())
      if (isRematerialized(&op))
        leftovers.push_back(&op);
    for (Operation *op : llvm::reverse(leftovers))
      if (op->use_empty())
        op->erase();
    step->setAttr(wafer::kProgramAttr, builder.getUnitAttr());
    return success();
  }

private:
  LogicalResult buildParameterTable();
  LogicalResult buildUpdate();
  SmallVector<Segment> segment();
  LogicalResult outline(Segment &segment);
  Value mapOperand(Value value, IRMapping &mapping, OpBuilder &body,
                   llvm::SetVector<Value> &inputs, Block *kernelBlock);
  LogicalResult cloneInto(Operation &op, IRMapping &mapping, OpBuilder &body,
                          llvm::SetVector<Value> &inputs, Block *kernelBlock);

  ModuleOp module;
  func::FuncOp step;
  OpBuilder builder;
  bool requireOptimizer;
  std::string prefix;
  /// (group, name) -> weight decay, from the optimizer's update ops.
  std::map<std::pair<std::string, std::string>, double> weightDecay;
  std::set<std::string> kernelNames;
};

LogicalResult Partitioner::buildParameterTable() {
  StoreOp store;
  step.walk([&](StoreOp op) { store = op; });
  if (!store && requireOptimizer)
    return step.emitOpError("has no giga.store optimizer step; run "
                            "giga-train-step-pipeline before wafer-partition");
  if (store)
    store.walk([&](Operation *op) {
      auto repeat = op->getParentOfType<RepeatOp>();
      std::string group = repeat ? repeat.getPrefix().str() : "";
      if (auto adamw = dyn_cast<AdamWOp>(op))
        weightDecay[{group, adamw.getName().str()}] =
            adamw.getWeightDecay().convertToDouble();
      if (auto sgd = dyn_cast<SgdOp>(op))
        weightDecay[{group, sgd.getName().str()}] =
            sgd.getWeightDecay().convertToDouble();
    });

  builder.setInsertionPointToStart(module.getBody());
  // Another program of the module may have declared the parameters already.
  std::set<std::pair<std::string, std::string>> declared;
  for (auto param : module.getOps<wafer::ParamOp>())
    declared.insert({param.getGroup().str(), param.getName().str()});
  WalkResult walk = step.walk([&](ParamOp param) {
    if (store && store->isAncestor(param))
      return WalkResult::advance();
    auto repeat = dyn_cast<RepeatOp>(param->getParentOp());
    std::string group = repeat ? repeat.getPrefix().str() : "";
    std::string name = param.getName().str();
    if (!declared.insert({group, name}).second)
      return WalkResult::advance();
    FloatAttr std = param.getStdAttr();
    builder.create<wafer::ParamOp>(
        param.getLoc(), builder.getStringAttr(name),
        builder.getStringAttr(group),
        builder.getI64IntegerAttr(repeat ? repeat.getCount() : 1),
        builder.getStringAttr(stringifyInitKind(param.getInit())),
        builder.getF64FloatAttr(std ? std.getValueAsDouble() : 0.0),
        builder.getF64FloatAttr(weightDecay[{group, name}]),
        TypeAttr::get(param.getType()));
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult Partitioner::buildUpdate() {
  StoreOp store;
  step.walk([&](StoreOp op) { store = op; });
  if (!store)
    return success();
  LrScheduleOp schedule;
  ClipScaleOp clip;
  Operation *update = nullptr;
  store.walk([&](Operation *op) {
    if (auto s = dyn_cast<LrScheduleOp>(op))
      schedule = s;
    else if (auto c = dyn_cast<ClipScaleOp>(op))
      clip = c;
    else if (isa<AdamWOp, SgdOp>(op) && !update)
      update = op;
  });
  if (!schedule || !clip || !update)
    return store.emitOpError("must hold giga.lr_schedule, giga.clip_scale "
                             "and at least one parameter update");
  double beta1 = 0.9, beta2 = 0.95, epsilon = 1e-8, momentum = 0.9;
  std::string kind = "adamw";
  if (auto adamw = dyn_cast<AdamWOp>(update)) {
    beta1 = adamw.getBeta1().convertToDouble();
    beta2 = adamw.getBeta2().convertToDouble();
    epsilon = adamw.getEpsilon().convertToDouble();
  } else {
    kind = "sgd";
    momentum = cast<SgdOp>(update).getMomentum().convertToDouble();
  }
  int64_t accumulation = 1;
  if (auto attr = module->getAttrOfType<IntegerAttr>(kAccumulationAttr))
    accumulation = attr.getInt();
  builder.setInsertionPoint(store);
  builder.create<wafer::UpdateOp>(
      store.getLoc(), schedule.getStep(), builder.getStringAttr(kind),
      schedule.getLearningRateAttr(), schedule.getWarmupStepsAttr(),
      schedule.getDecayStepsAttr(), schedule.getMinRatioAttr(),
      clip.getMaxNormAttr(), builder.getF64FloatAttr(beta1),
      builder.getF64FloatAttr(beta2), builder.getF64FloatAttr(epsilon),
      builder.getF64FloatAttr(momentum),
      builder.getI64IntegerAttr(accumulation));
  store.erase();
  return success();
}

SmallVector<Segment> Partitioner::segment() {
  Block &body = step.getBody().front();
  // giga-autodiff appends the backward pass after the forward, starting
  // with the loss seed.
  DenseSet<Operation *> backward;
  bool afterSeed = false;
  for (Operation &op : body.without_terminator()) {
    afterSeed |= op.hasAttr(kLossSeedAttr);
    if (afterSeed)
      backward.insert(&op);
  }

  // A fused loss whose gradient computes it again: the forward op becomes a
  // kernel of its own that only eval_step runs, and the step returns the
  // gradient's loss too, for train_step.
  DenseSet<Operation *> evalOnly;
  auto terminator = cast<func::ReturnOp>(body.getTerminator());
  for (auto loss : body.getOps<LinearCrossEntropyOp>()) {
    if (backward.contains(loss) || terminator.getNumOperands() != 1 ||
        terminator.getOperand(0) != loss.getLoss())
      continue;
    for (auto grad : body.getOps<LinearCrossEntropyGradOp>())
      if (grad.getInput() == loss.getInput() &&
          grad.getWeight() == loss.getWeight() &&
          grad.getTargets() == loss.getTargets()) {
        evalOnly.insert(loss);
        terminator->insertOperands(1, grad.getLoss());
        step.setType(FunctionType::get(step.getContext(),
                                       step.getArgumentTypes(),
                                       terminator.getOperandTypes()));
        break;
      }
  }

  SmallVector<Segment> segments;
  for (Operation &op : body.without_terminator()) {
    if (isRematerialized(&op) || isa<wafer::UpdateOp>(op))
      continue;
    bool isBackward = backward.contains(&op);
    bool isEvalOnly = evalOnly.contains(&op);
    auto repeat = dyn_cast<RepeatOp>(op);
    if (repeat || isEvalOnly || segments.empty() || segments.back().repeat ||
        segments.back().evalOnly || segments.back().backward != isBackward) {
      segments.emplace_back();
      segments.back().backward = isBackward;
      segments.back().evalOnly = isEvalOnly;
      segments.back().repeat = repeat;
    }
    segments.back().ops.push_back(&op);
  }

  // Non-repeated kernels are named by where they sit: before the first
  // repeated block ("pre": a GPT's embedding), after the last ("post": the
  // head and the loss) or between two ("mid"); backward kernels after the
  // forward kernel they mirror.
  int forwardRepeats = llvm::count_if(
      segments, [](const Segment &s) { return s.repeat && !s.backward; });
  int forwardSeen = 0, backwardSeen = 0;
  for (Segment &segment : segments) {
    std::string name;
    if (segment.repeat) {
      name = segment.repeat.getPrefix().str();
      ++(segment.backward ? backwardSeen : forwardSeen);
    } else if (segment.evalOnly) {
      name = "loss";
    } else if (forwardRepeats == 0) {
      name = "body";
    } else {
      int before =
          segment.backward ? forwardRepeats - backwardSeen : forwardSeen;
      name = before == 0 ? "pre" : before == forwardRepeats ? "post" : "mid";
    }
    std::string base = (prefix.empty() ? "" : prefix + ".") + name +
                       (segment.backward ? ".bwd" : ".fwd");
    name = base;
    for (int i = 2; kernelNames.count(name); ++i)
      name = base + std::to_string(i);
    kernelNames.insert(name);
    segment.name = name;
  }
  return segments;
}

/// `value` as the kernel body sees it: cloned if it is rematerialized,
/// mapped if defined in the kernel, else a new kernel input.
Value Partitioner::mapOperand(Value value, IRMapping &mapping, OpBuilder &body,
                              llvm::SetVector<Value> &inputs,
                              Block *kernelBlock) {
  if (Value mapped = mapping.lookupOrNull(value))
    return mapped;
  Operation *def = value.getDefiningOp();
  if (def && isRematerialized(def)) {
    OpBuilder::InsertionGuard guard(body);
    body.setInsertionPointToStart(kernelBlock);
    Operation *clone;
    if (auto param = dyn_cast<ParamOp>(def))
      clone = body.create<wafer::StreamInOp>(param.getLoc(), param.getType(),
                                             param.getName());
    else
      clone = body.clone(*def);
    mapping.map(def->getResults(), clone->getResults());
    return mapping.lookup(value);
  }
  inputs.insert(value);
  Value argument = kernelBlock->addArgument(value.getType(), value.getLoc());
  mapping.map(value, argument);
  return argument;
}

LogicalResult Partitioner::cloneInto(Operation &op, IRMapping &mapping,
                                     OpBuilder &body,
                                     llvm::SetVector<Value> &inputs,
                                     Block *kernelBlock) {
  if (op.getNumRegions() != 0)
    return op.emitOpError("cannot be placed in a kernel: wafer-partition "
                          "supports one level of giga.repeat and no other "
                          "ops with regions");
  if (isa<ParamOp>(op)) {
    (void)mapOperand(op.getResult(0), mapping, body, inputs, kernelBlock);
    return success();
  }
  for (Value operand : op.getOperands())
    (void)mapOperand(operand, mapping, body, inputs, kernelBlock);
  if (auto grad = dyn_cast<ParamGradOp>(op)) {
    body.create<wafer::StreamOutOp>(grad.getLoc(), grad.getName(),
                                    mapping.lookup(grad.getGrad()));
    return success();
  }
  body.clone(op, mapping);
  return success();
}

LogicalResult Partitioner::outline(Segment &segment) {
  MLIRContext *context = module.getContext();
  Location loc = segment.ops.front()->getLoc();
  auto *kernelBlock = new Block();
  OpBuilder body(context);
  body.setInsertionPointToEnd(kernelBlock);
  IRMapping mapping;
  llvm::SetVector<Value> inputs;
  SmallVector<Value> results; // program values the kernel defines
  SmallVector<Value> returned;

  if (RepeatOp repeat = segment.repeat) {
    // Carried and sliced values are the body's arguments; other values the
    // body reads become trailing inputs.
    Block &repeatBody = repeat.getBodyBlock();
    for (auto [argument, operand] :
         llvm::zip(repeatBody.getArguments(), repeat->getOperands())) {
      inputs.insert(operand);
      mapping.map(argument, kernelBlock->addArgument(argument.getType(), loc));
    }
    for (Operation &op : repeatBody.without_terminator())
      if (failed(cloneInto(op, mapping, body, inputs, kernelBlock))) {
        delete kernelBlock;
        return failure();
      }
    for (Value value : repeatBody.getTerminator()->getOperands())
      returned.push_back(mapping.lookup(value));
    llvm::append_range(results, repeat.getResults());
  } else {
    DenseSet<Operation *> inSegment(segment.ops.begin(), segment.ops.end());
    for (Operation *op : segment.ops)
      if (failed(cloneInto(*op, mapping, body, inputs, kernelBlock))) {
        delete kernelBlock;
        return failure();
      }
    for (Operation *op : segment.ops)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              Operation *top = user;
              while (top->getParentOp() != step)
                top = top->getParentOp();
              return !inSegment.contains(top);
            })) {
          results.push_back(result);
          returned.push_back(mapping.lookup(result));
        }
  }
  body.create<func::ReturnOp>(loc, returned);

  builder.setInsertionPoint(step);
  auto kernel = builder.create<func::FuncOp>(
      loc, segment.name,
      builder.getFunctionType(kernelBlock->getArgumentTypes(),
                              TypeRange(ValueRange(returned))));
  kernel.setPrivate();
  kernel.getBody().push_back(kernelBlock);
  kernel->setAttr(wafer::kKernelAttr, builder.getUnitAttr());
  kernel->setAttr(
      wafer::kGroupAttr,
      builder.getStringAttr(segment.repeat ? segment.repeat.getPrefix() : ""));
  kernel->setAttr(wafer::kLayersAttr,
                  builder.getI64IntegerAttr(
                      segment.repeat ? segment.repeat.getCount() : 1));
  if (segment.repeat) {
    kernel->setAttr(wafer::kCarriedAttr, builder.getI64IntegerAttr(
                                             segment.repeat.getInits().size()));
    kernel->setAttr(wafer::kSlicedAttr, builder.getI64IntegerAttr(
                                            segment.repeat.getSlices().size()));
    if (segment.repeat.getReverse())
      kernel->setAttr(wafer::kReverseAttr, builder.getUnitAttr());
  }
  if (segment.backward)
    kernel->setAttr(wafer::kBackwardAttr, builder.getUnitAttr());
  if (segment.evalOnly)
    kernel->setAttr(wafer::kEvalOnlyAttr, builder.getUnitAttr());

  builder.setInsertionPoint(segment.ops.front());
  auto invoke = builder.create<wafer::InvokeOp>(
      loc, TypeRange(ValueRange(results)),
      SymbolRefAttr::get(context, segment.name), inputs.getArrayRef());
  for (auto [old, replacement] : llvm::zip(results, invoke.getResults()))
    old.replaceAllUsesWith(replacement);
  for (Operation *op : llvm::reverse(segment.ops))
    op->erase();
  return success();
}

struct WaferPartitionPass : giga::impl::WaferPartitionBase<WaferPartitionPass> {
  void runOnOperation() override {
    if (failed(partitionStep(getOperation(), /*requireOptimizer=*/true)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult giga::partitionStep(ModuleOp module, bool requireOptimizer) {
  // A generation module's functions are programs of their own; otherwise
  // the one program is the training step.
  SmallVector<func::FuncOp> entries;
  for (auto function : module.getOps<func::FuncOp>())
    if (auto name = function->getAttrOfType<StringAttr>(kEntryAttr))
      entries.push_back(function);
  if (entries.empty()) {
    func::FuncOp step = findLossFunction(module);
    return success(
        step &&
        succeeded(Partitioner(module, step, requireOptimizer, "").run()));
  }
  for (func::FuncOp entry : entries) {
    if (entry->hasAttr("giga.loss"))
      return entry.emitOpError("is marked both giga.loss and ")
             << kEntryAttr << "; a training step is one program, its entry "
             << "points come from it";
    std::string name = entry->getAttrOfType<StringAttr>(kEntryAttr).str();
    if (failed(
            Partitioner(module, entry, /*requireOptimizer=*/false, name).run()))
      return failure();
  }
  return success();
}
