//===- GigaAutodiff.cpp - reverse-mode autodiff of the loss ---------------===//
#include "compiler/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace giga {
#define GEN_PASS_DEF_GIGAAUTODIFF
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

bool isFloatTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

/// Which values depend on a parameter, so that their gradients are wanted.
class Activity {
public:
  bool isActive(Value value) const { return active.contains(value); }
  void markActive(Value value) { active.insert(value); }

  void analyze(Block &block) {
    for (Operation &op : block) {
      if (isa<ParamOp>(op)) {
        active.insert(op.getResult(0));
      } else if (auto repeat = dyn_cast<RepeatOp>(op)) {
        analyzeRepeat(repeat);
      } else if (llvm::any_of(op.getOperands(),
                              [&](Value v) { return isActive(v); })) {
        for (Value result : op.getResults())
          if (isFloatTensor(result))
            active.insert(result);
      }
    }
  }

private:
  // A carried value is active if its init is, or if an iteration makes it so
  // (a parameter in the body); iterate until the body arguments settle.
  void analyzeRepeat(RepeatOp repeat) {
    Block &body = repeat.getBodyBlock();
    size_t carried = repeat.getInits().size();
    for (auto [argument, operand] :
         llvm::zip(body.getArguments(), repeat->getOperands()))
      if (isActive(operand))
        active.insert(argument);
    auto yield = cast<YieldOp>(body.getTerminator());
    bool changed = true;
    while (changed) {
      analyze(body);
      changed = false;
      for (size_t i = 0; i < carried; ++i)
        if (isActive(yield.getOperand(i)) &&
            active.insert(body.getArgument(i)).second)
          changed = true;
    }
    for (auto [result, yielded] :
         llvm::zip(repeat.getResults(), yield.getOperands()))
      if (isActive(yielded))
        active.insert(result);
  }

  DenseSet<Value> active;
};

Value zerosLike(OpBuilder &builder, Location loc, Type type) {
  return builder.create<FillOp>(loc, type, builder.getF64FloatAttr(0.0));
}

/// Function level: forward values are used as they are, and the ops that
/// produce them are marked as keeping a saved activation.
class FunctionContext : public VJPContext {
public:
  explicit FunctionContext(Activity &activity) : activity(activity) {}

  Value forward(Value value) override {
    Operation *def = value.getDefiningOp();
    if (def && !isa<ParamOp>(def))
      def->setAttr("giga.saved", UnitAttr::get(def->getContext()));
    return value;
  }
  bool needsGrad(Value operand) override { return activity.isActive(operand); }

private:
  Activity &activity;
};

/// Inside the backward body of a repeat: a value of the forward body reaches
/// the backward as a slice of a stacked saved activation, except parameters
/// and operand-free ops (iota, masks), which are declared again, and, when
/// recomputing, every other op, which is computed again from the layer's
/// saved input.
class RepeatBodyContext : public VJPContext {
public:
  RepeatBodyContext(RepeatOp forwardRepeat, Block &backwardBody,
                    VJPContext &outer, Activity &activity, bool recompute)
      : forwardRepeat(forwardRepeat), backwardBody(backwardBody), outer(outer),
        activity(activity), recompute(recompute) {}

  Value forward(Value value) override {
    if (!forwardRepeat.getBody().isAncestor(value.getParentRegion()))
      return outer.forward(value);
    if (Value mapped = mapping.lookup(value))
      return mapped;
    Operation *def = value.getDefiningOp();
    bool rebuild = def && def->getNumRegions() == 0 && isPure(def) &&
                   (recompute || def->getNumOperands() == 0);
    if (!rebuild) {
      saved.push_back(value);
      Value slice = backwardBody.addArgument(value.getType(), value.getLoc());
      mapping[value] = slice;
      return slice;
    }
    SmallVector<Value> operands;
    for (Value operand : def->getOperands())
      operands.push_back(forward(operand));
    // The backward body is detached until its repeat exists, so the builder
    // cannot take the context from it.
    OpBuilder builder(def->getContext());
    if (def->getNumOperands() == 0)
      builder.setInsertionPointToStart(&backwardBody);
    else
      builder.setInsertionPointToEnd(&backwardBody);
    IRMapping operandMap;
    operandMap.map(def->getOperands(), operands);
    Operation *clone = builder.clone(*def, operandMap);
    for (auto [old, copy] : llvm::zip(def->getResults(), clone->getResults()))
      mapping[old] = copy;
    return mapping.lookup(value);
  }
  bool needsGrad(Value operand) override { return activity.isActive(operand); }

  /// Forward-body values the backward reads, in the order of the backward
  /// body's slice arguments.
  ArrayRef<Value> getSaved() const { return saved; }

private:
  RepeatOp forwardRepeat;
  Block &backwardBody;
  VJPContext &outer;
  Activity &activity;
  bool recompute;
  DenseMap<Value, Value> mapping;
  SmallVector<Value> saved;
};

/// Walks a block's ops backwards, asking each for its VJP and summing the
/// gradients of values used more than once.
class Differentiator {
public:
  Differentiator(Activity &activity, VJPContext &context, OpBuilder &builder,
                 bool recompute)
      : activity(activity), context(context), builder(builder),
        recompute(recompute) {}

  void accumulate(Value value, Value grad) {
    if (!grad)
      return;
    Value &slot = grads[value];
    slot =
        slot ? builder.create<AddOp>(grad.getLoc(), slot.getType(), slot, grad)
             : grad;
  }
  Value gradOf(Value value) const { return grads.lookup(value); }

  LogicalResult run(ArrayRef<Operation *> ops) {
    for (Operation *op : llvm::reverse(ops)) {
      SmallVector<Value> resultGrads;
      bool anyGrad = false;
      for (Value result : op->getResults()) {
        resultGrads.push_back(gradOf(result));
        anyGrad |= bool(resultGrads.back());
      }
      if (!anyGrad)
        continue;
      if (auto param = dyn_cast<ParamOp>(op)) {
        builder.create<ParamGradOp>(param.getLoc(), param.getName(),
                                    resultGrads[0]);
        continue;
      }
      if (auto repeat = dyn_cast<RepeatOp>(op)) {
        if (failed(differentiateRepeat(repeat, resultGrads)))
          return failure();
        continue;
      }
      if (llvm::none_of(op->getOperands(),
                        [&](Value v) { return activity.isActive(v); }))
        continue;
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      if (!differentiable)
        return op->emitOpError(
            "is on the path from a parameter to the loss but has no VJP "
            "(DifferentiableOpInterface), so giga-autodiff cannot "
            "differentiate it; express it with differentiable giga ops");
      SmallVector<Value> operandGrads;
      if (failed(differentiable.buildVJP(builder, context, resultGrads,
                                         operandGrads)))
        return failure();
      for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads))
        if (activity.isActive(operand))
          accumulate(operand, grad);
    }
    return success();
  }

private:
  LogicalResult differentiateRepeat(RepeatOp forward,
                                    ArrayRef<Value> resultGrads);

  Activity &activity;
  VJPContext &context;
  OpBuilder &builder;
  bool recompute;
  DenseMap<Value, Value> grads;
};

// forward:  %y = repeat N (%x) { ^(h): ...; yield next }
// becomes:  %y, %saved... = repeat N (%x) { ^(h): ...; yield next, saved... }
//           %dx, %dcaptured... = repeat N reverse (%dy, zeros...)
//                                slices(%saved...) { ^(dnext, acc...,
//                                saved...):
//                                  the body's VJP; param_grad per layer;
//                                  yield dh, acc + dcaptured... }
LogicalResult Differentiator::differentiateRepeat(RepeatOp forward,
                                                  ArrayRef<Value> resultGrads) {
  if (!forward.getSlices().empty() || !forward.getStackedResults().empty())
    return forward.emitOpError(
        "with slices or stacked results is not differentiable yet; write the "
        "model with carried values only");
  Location loc = forward.getLoc();
  Block &body = forward.getBodyBlock();
  size_t carried = forward.getInits().size();

  // Active values from outside that the body reads (a weight shared by all
  // layers): their gradients are summed over the iterations.
  llvm::SetVector<Value> captured;
  forward.getBody().walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (activity.isActive(operand) &&
          !forward.getBody().isAncestor(operand.getParentRegion()))
        captured.insert(operand);
  });

  auto *backwardBody = new Block();
  for (Value init : forward.getInits())
    backwardBody->addArgument(init.getType(), loc);
  for (Value value : captured)
    backwardBody->addArgument(value.getType(), loc);

  RepeatBodyContext bodyContext(forward, *backwardBody, context, activity,
                                recompute);
  OpBuilder bodyBuilder(forward.getContext());
  bodyBuilder.setInsertionPointToEnd(backwardBody);
  Differentiator bodyDifferentiator(activity, bodyContext, bodyBuilder,
                                    recompute);
  auto yield = cast<YieldOp>(body.getTerminator());
  for (size_t i = 0; i < carried; ++i)
    if (activity.isActive(yield.getOperand(i)))
      bodyDifferentiator.accumulate(yield.getOperand(i),
                                    backwardBody->getArgument(i));
  SmallVector<Operation *> bodyOps;
  for (Operation &op : body.without_terminator())
    bodyOps.push_back(&op);
  if (failed(bodyDifferentiator.run(bodyOps))) {
    delete backwardBody;
    return failure();
  }

  SmallVector<Value> nextGrads;
  for (size_t i = 0; i < carried; ++i) {
    Value grad = bodyDifferentiator.gradOf(body.getArgument(i));
    nextGrads.push_back(
        grad ? grad
             : zerosLike(bodyBuilder, loc, body.getArgument(i).getType()));
  }
  for (auto [index, value] : llvm::enumerate(captured)) {
    Value sum = backwardBody->getArgument(carried + index);
    if (Value grad = bodyDifferentiator.gradOf(value))
      sum = bodyBuilder.create<AddOp>(loc, sum.getType(), sum, grad);
    nextGrads.push_back(sum);
  }
  bodyBuilder.create<YieldOp>(loc, nextGrads);

  // The forward repeat again, now also stacking what the backward reads.
  ArrayRef<Value> saved = bodyContext.getSaved();
  OpBuilder forwardBuilder(forward);
  auto stacking = forwardBuilder.create<RepeatOp>(
      loc, forward.getCount(), forward.getPrefix(), forward.getInits(),
      ValueRange(), TypeRange(ValueRange(saved)), forward.getReverse());
  stacking.getBody().front().erase();
  stacking.getBody().takeBody(forward.getBody());
  cast<YieldOp>(stacking.getBodyBlock().getTerminator())
      .getValuesMutable()
      .append(saved);
  for (auto [old, replacement] :
       llvm::zip(forward.getResults(), stacking.getCarriedResults())) {
    if (activity.isActive(old))
      activity.markActive(replacement);
    old.replaceAllUsesWith(replacement);
  }
  if (forward->hasAttr("giga.saved"))
    stacking->setAttr("giga.saved", forward->getAttr("giga.saved"));
  forward.erase();

  SmallVector<Value> inits;
  for (auto [grad, result] :
       llvm::zip(resultGrads, stacking.getCarriedResults()))
    inits.push_back(grad ? grad : zerosLike(builder, loc, result.getType()));
  for (Value value : captured)
    inits.push_back(zerosLike(builder, loc, value.getType()));
  auto backward = builder.create<RepeatOp>(
      loc, stacking.getCount(), stacking.getPrefix(), inits,
      stacking.getStackedResults(), TypeRange(), !stacking.getReverse());
  backward.getBody().front().erase();
  backward.getBody().push_back(backwardBody);

  for (auto [init, grad] :
       llvm::zip(stacking.getInits(), backward.getResults()))
    if (activity.isActive(init))
      accumulate(init, grad);
  for (auto [index, value] : llvm::enumerate(captured))
    accumulate(value, backward.getResult(carried + index));
  return success();
}

} // namespace

LogicalResult giga::differentiateLoss(func::FuncOp function, bool recompute) {
  if (!function.getBody().hasOneBlock())
    return function.emitOpError("marked giga.loss must have a single block");
  Block &entry = function.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
  auto scalar =
      RankedTensorType::get({}, Float32Type::get(function.getContext()));
  if (!ret || ret.getNumOperands() != 1 ||
      ret.getOperand(0).getType() != scalar)
    return entry.getTerminator()->emitOpError(
        "must return exactly one value, the loss, of type tensor<f32>; a "
        "loss that is not a scalar cannot be differentiated (take the mean, "
        "as giga.cross_entropy does)");
  bool done = false;
  function.walk([&](ParamGradOp) { done = true; });
  if (done)
    return function.emitOpError(
        "already holds giga.param_grad ops; giga-autodiff runs once");

  Activity activity;
  activity.analyze(entry);
  Value loss = ret.getOperand(0);
  if (!activity.isActive(loss))
    return ret.emitOpError("returns a loss that depends on no giga.param; "
                           "there is nothing to differentiate");

  OpBuilder builder(ret);
  FunctionContext context(activity);
  Differentiator differentiator(activity, context, builder, recompute);
  auto seed = builder.create<FillOp>(ret.getLoc(), scalar,
                                     builder.getF64FloatAttr(1.0));
  // Where the backward pass starts, for wafer-partition.
  seed->setAttr(kLossSeedAttr, builder.getUnitAttr());
  differentiator.accumulate(loss, seed);
  SmallVector<Operation *> ops;
  for (Operation &op : entry.without_terminator())
    ops.push_back(&op);
  return differentiator.run(ops);
}

namespace {
struct GigaAutodiffPass : giga::impl::GigaAutodiffBase<GigaAutodiffPass> {
  using GigaAutodiffBase::GigaAutodiffBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp loss = findLossFunction(module);
    // wafer-microbatch asks for recomputation when saved activations do
    // not fit the target.
    bool recomputeRepeats = recompute || module->hasAttr(kRecomputeAttr);
    if (!loss || failed(differentiateLoss(loss, recomputeRepeats)))
      signalPassFailure();
  }
};
} // namespace

func::FuncOp giga::findLossFunction(ModuleOp module) {
  func::FuncOp found;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (!function->hasAttr("giga.loss"))
      continue;
    if (found) {
      function.emitOpError("is marked giga.loss, but so is @")
          << found.getSymName() << "; mark exactly one function";
      return nullptr;
    }
    found = function;
  }
  if (!found)
    module.emitError("no function is marked 'giga.loss'; add "
                     "`attributes {giga.loss}` to the function that returns "
                     "the loss");
  return found;
}
