//===- GigaOptimizer.cpp - append the store-side optimizer step -----------===//
#include "compiler/Passes.h"
#include "compiler/optimizers/OptimizerRule.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace giga {
#define GEN_PASS_DEF_GIGAOPTIMIZER
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

/// Reads `giga.run` entries, reporting a missing or mistyped one on `op`.
class RunSettings {
public:
  RunSettings(Operation *op, DictionaryAttr run) : op(op), run(run) {}

  FailureOr<double> real(StringRef key, std::optional<double> fallback) {
    Attribute value = run ? run.get(key) : Attribute();
    if (auto real = dyn_cast_or_null<FloatAttr>(value))
      return real.getValueAsDouble();
    if (auto integer = dyn_cast_or_null<IntegerAttr>(value))
      return double(integer.getInt());
    if (!value && fallback)
      return *fallback;
    return missing(key, "a number");
  }

  FailureOr<int64_t> integer(StringRef key, std::optional<int64_t> fallback) {
    Attribute value = run ? run.get(key) : Attribute();
    if (auto integer = dyn_cast_or_null<IntegerAttr>(value))
      return integer.getInt();
    if (!value && fallback)
      return *fallback;
    return missing(key, "an integer");
  }

  std::string string(StringRef key, StringRef fallback) {
    auto value = run ? dyn_cast_or_null<StringAttr>(run.get(key)) : nullptr;
    return value ? value.str() : fallback.str();
  }

private:
  LogicalResult missing(StringRef key, StringRef what) {
    return op->emitError("giga-optimizer needs giga.run.")
           << key << " to be " << what
           << "; add it to the module's `giga.run` dictionary (gigac writes "
              "the config's run section there)";
  }

  Operation *op;
  DictionaryAttr run;
};

struct Parameter {
  std::string name;
  RankedTensorType type;
};

/// The parameters of the function: those declared at top level, and those
/// of each repeated block, keyed by the repeat's (count, prefix).
struct ParameterTable {
  SmallVector<Parameter> topLevel;
  llvm::MapVector<std::pair<int64_t, StringRef>, SmallVector<Parameter>>
      repeated;
};

void addUnique(SmallVector<Parameter> &list, ParamOp param) {
  if (llvm::none_of(
          list, [&](const Parameter &p) { return p.name == param.getName(); }))
    list.push_back(
        {param.getName().str(), cast<RankedTensorType>(param.getType())});
}

FailureOr<ParameterTable> collectParameters(func::FuncOp function) {
  ParameterTable table;
  WalkResult walk = function.walk([&](ParamOp param) {
    Operation *parent = param->getParentOp();
    if (parent == function) {
      addUnique(table.topLevel, param);
      return WalkResult::advance();
    }
    auto repeat = dyn_cast<RepeatOp>(parent);
    if (!repeat || repeat->getParentOp() != function) {
      param.emitOpError("is nested deeper than one giga.repeat; "
                        "giga-optimizer supports one level of repeat");
      return WalkResult::interrupt();
    }
    addUnique(table.repeated[{repeat.getCount(), repeat.getPrefix()}], param);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return table;
}

struct GigaOptimizerPass : giga::impl::GigaOptimizerBase<GigaOptimizerPass> {
  using GigaOptimizerBase::GigaOptimizerBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    func::FuncOp function = findLossFunction(module);
    if (!function)
      return failure();
    bool hasGrads = false, hasStore = false;
    function.walk([&](ParamGradOp) { hasGrads = true; });
    function.walk([&](StoreOp) { hasStore = true; });
    if (!hasGrads)
      return function.emitOpError("has no giga.param_grad; run giga-autodiff "
                                  "before giga-optimizer");
    if (hasStore)
      return function.emitOpError("already ends in a giga.store optimizer "
                                  "step; giga-optimizer runs once");

    RunSettings run(module, module->getAttrOfType<DictionaryAttr>("giga.run"));
    std::string name = optimizerName.empty() ? run.string("optimizer", "adamw")
                                             : optimizerName.getValue();
    std::unique_ptr<OptimizerRule> rule;
    if (name == "adamw")
      rule = createAdamWRule();
    else if (name == "sgd")
      rule = createSgdRule();
    else
      return module.emitError("unknown optimizer '")
             << name << "'; choose adamw or sgd";

    FailureOr<double> learningRate = run.real("learning_rate", std::nullopt);
    FailureOr<int64_t> warmup = run.integer("warmup_steps", 0);
    if (failed(learningRate) || failed(warmup))
      return failure();
    FailureOr<int64_t> numSteps =
        run.integer("num_steps", std::optional<int64_t>(*warmup + 1));
    if (failed(numSteps))
      return failure();
    FailureOr<int64_t> decay = run.integer("decay_steps", *numSteps - *warmup);
    FailureOr<double> maxNorm = run.real("max_gradient_norm", 1.0);
    FailureOr<double> minRatio = run.real("min_lr_ratio", 0.1);
    OptimizerSettings settings;
    FailureOr<double> weightDecay = run.real("weight_decay", 0.1);
    FailureOr<double> beta1 = run.real("adam_beta1", 0.9);
    FailureOr<double> beta2 = run.real("adam_beta2", 0.95);
    FailureOr<double> epsilon = run.real("adam_epsilon", 1e-8);
    FailureOr<double> momentum = run.real("momentum", 0.9);
    if (failed(decay) || failed(maxNorm) || failed(minRatio) ||
        failed(weightDecay) || failed(beta1) || failed(beta2) ||
        failed(epsilon) || failed(momentum))
      return failure();
    settings = {*weightDecay, *beta1, *beta2, *epsilon, *momentum};

    FailureOr<ParameterTable> parameters = collectParameters(function);
    if (failed(parameters))
      return failure();

    OpBuilder builder(function.getContext());
    Location loc = function.getLoc();
    auto stepType = RankedTensorType::get({}, builder.getI64Type());
    unsigned stepIndex = function.getNumArguments();
    (void)function.insertArgument(
        stepIndex, stepType,
        builder.getDictionaryAttr(
            builder.getNamedAttr("giga.step", builder.getUnitAttr())),
        loc);
    Value step = function.getArgument(stepIndex);

    Block &entry = function.getBody().front();
    builder.setInsertionPoint(entry.getTerminator());
    auto store = builder.create<StoreOp>(loc);
    store.getBody().emplaceBlock();
    builder.setInsertionPointToStart(&store.getBody().front());
    auto scalar = RankedTensorType::get({}, builder.getF32Type());
    Value norm = builder.create<GradNormOp>(loc, scalar);
    Value scale = builder.create<ClipScaleOp>(
        loc, scalar, norm, builder.getF64FloatAttr(*maxNorm));
    Value lr = builder.create<LrScheduleOp>(
        loc, scalar, step, builder.getF64FloatAttr(*learningRate),
        builder.getI64IntegerAttr(*warmup), builder.getI64IntegerAttr(*decay),
        builder.getF64FloatAttr(*minRatio));
    UpdateOperands operands{lr, scale, step};

    // Biases, layernorm gains and other vectors take no weight decay, as in
    // nanoGPT and gigaGPT.
    auto update = [&](const Parameter &parameter) {
      double decayFactor =
          parameter.type.getRank() >= 2 ? settings.weightDecay : 0.0;
      rule->emitUpdate(builder, loc, parameter.name, parameter.type, operands,
                       settings, decayFactor);
    };
    for (const Parameter &parameter : parameters->topLevel)
      update(parameter);
    for (auto &[key, list] : parameters->repeated) {
      auto repeat =
          builder.create<RepeatOp>(loc, key.first, key.second, ValueRange());
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(&repeat.getBodyBlock());
      for (const Parameter &parameter : list)
        update(parameter);
      builder.create<YieldOp>(loc);
    }
    return success();
  }
};

} // namespace
