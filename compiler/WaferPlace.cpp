//===- WaferPlace.cpp - place kernels on the PE grid and cost them --------===//
#include "compiler/BufferPlan.h"
#include "compiler/Passes.h"
#include "compiler/Target.h"
#include "frontend/Config.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"

namespace giga {
#define GEN_PASS_DEF_WAFERPLACE
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

int64_t elements(Value value) {
  return cast<RankedTensorType>(value.getType()).getNumElements();
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

int64_t bytes(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

} // namespace

double giga::opFlops(Operation *op) {
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case([](MatmulOp matmul) {
        auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
        int64_t k = matmul.getTransposeLhs() ? lhs.getShape()[lhs.getRank() - 2]
                                             : lhs.getShape().back();
        return 2.0 * elements(matmul.getResult()) * k;
      })
      .Case([](AttentionOp attention) {
        ArrayRef<int64_t> q = shapeOf(attention.getQuery());
        return 4.0 * q[0] * q[1] * q[2] * shapeOf(attention.getKey())[2] * q[3];
      })
      .Case([](AttentionGradOp attention) {
        // The probabilities again, then four products.
        ArrayRef<int64_t> q = shapeOf(attention.getQuery());
        return 12.0 * q[0] * q[1] * q[2] * shapeOf(attention.getKey())[2] *
               q[3];
      })
      .Case([](LinearCrossEntropyOp loss) {
        // The logits' product, then the cross-entropy on them.
        return (2.0 * shapeOf(loss.getWeight())[1] + 8.0) *
               elements(loss.getTargets()) * shapeOf(loss.getWeight())[0];
      })
      .Case([](LinearCrossEntropyGradOp grad) {
        // The logits and loss, then the logits again, their gradient and its
        // products with w and x.
        return (8.0 * shapeOf(grad.getWeight())[1] + 20.0) *
               elements(grad.getTargets()) * shapeOf(grad.getWeight())[0];
      })
      .Case<LayerNormOp, RmsNormOp, GeluOp, SoftmaxOp, CrossEntropyOp>(
          [](Operation *op) { return 8.0 * elements(op->getOperand(0)); })
      .Case<LayerNormGradOp, RmsNormGradOp, GeluGradOp, SoftmaxGradOp,
            CrossEntropyGradOp>(
          [](Operation *op) { return 12.0 * elements(op->getOperand(1)); })
      .Case<AddOp, BiasAddOp, ReduceSumOp, EmbeddingGradOp>(
          [](Operation *op) { return 1.0 * elements(op->getOperand(0)); })
      .Default([](Operation *) { return 0.0; });
}

KernelCost giga::costKernel(func::FuncOp kernel, const Target &target) {
  KernelCost cost;
  kernel.walk([&](Operation *op) {
    cost.flops += opFlops(op);
    if (auto in = dyn_cast<wafer::StreamInOp>(op))
      cost.weightBytes += bytes(in.getWeights());
  });
  cost.computeCycles = cost.flops / (target.pes() * target.flopsPerCyclePerPe *
                                     target.utilization);
  cost.streamCycles =
      double(cost.weightBytes) / target.memoryxBytesPerSec * target.clockHz;
  return cost;
}

FailureOr<Target> giga::loadTargetFor(Operation *anchor,
                                      const std::string &nameOrPath) {
  try {
    return loadTarget(nameOrPath);
  } catch (const ConfigError &error) {
    return anchor->emitError(error.what());
  }
}

namespace {

struct WaferPlacePass : giga::impl::WaferPlaceBase<WaferPlacePass> {
  using WaferPlaceBase::WaferPlaceBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Target> loaded = loadTargetFor(module, wafer);
    if (failed(loaded))
      return signalPassFailure();
    const Target &target = *loaded;
    FailureOr<BufferPlan> plan = readBufferPlan(module);
    if (failed(plan))
      return signalPassFailure();
    Builder builder(module.getContext());
    int64_t accumulation = 1;
    module.walk([&](wafer::UpdateOp update) {
      accumulation = update.getAccumulation();
    });

    nlohmann::json kernels = nlohmann::json::array();
    double stepCycles = 0.0, stepFlops = 0.0;
    bool fits = true;
    for (auto kernel : module.getOps<func::FuncOp>()) {
      if (!kernel->hasAttr(wafer::kKernelAttr))
        continue;
      int64_t layers =
          kernel->getAttrOfType<IntegerAttr>(wafer::kLayersAttr).getInt();
      KernelCost cost = costKernel(kernel, target);
      double flops = cost.flops, computeCycles = cost.computeCycles,
             streamCycles = cost.streamCycles;
      int64_t weightBytes = cost.weightBytes, inputBytes = 0;
      std::vector<std::pair<Operation *, double>> work;
      for (Operation &op : kernel.getBody().front())
        if (double opWork = opFlops(&op); opWork > 0)
          work.push_back({&op, opWork});
      for (BlockArgument argument : kernel.getArguments())
        inputBytes += bytes(argument);

      // Each op gets a band of PE rows in proportion to its share of the
      // kernel's work (on a 1x1 host the ops share the one PE in time).
      int64_t row = 0;
      for (auto [op, opWork] : work) {
        int64_t rows =
            std::max<int64_t>(1, int64_t(opWork / flops * target.peRows + 0.5));
        rows = std::min(rows, target.peRows - std::min(row, target.peRows - 1));
        int64_t first = std::min(row, target.peRows - 1);
        op->setAttr("wafer.pe_rect", builder.getDenseI64ArrayAttr(
                                         {first, 0, rows, target.peCols}));
        row += rows;
      }

      // Inputs and scratch stay for the whole invocation; the streamed-in
      // weights have their own staging region (BufferPlan) and are not
      // counted here.
      int64_t scratchBytes = plan->kernels.lookup(kernel).scratchBytes +
                             plan->kernels.lookup(kernel).opScratchBytes;
      int64_t sram = inputBytes + scratchBytes;
      kernel->setAttr("wafer.pes", builder.getI64IntegerAttr(target.pes()));
      kernel->setAttr("wafer.sram_bytes", builder.getI64IntegerAttr(sram));
      kernel->setAttr("wafer.flops", builder.getF64FloatAttr(flops));
      kernel->setAttr("wafer.compute_cycles",
                      builder.getF64FloatAttr(computeCycles));
      kernel->setAttr("wafer.stream_cycles",
                      builder.getF64FloatAttr(streamCycles));
      kernel->setAttr("wafer.stream_bytes",
                      builder.getI64IntegerAttr(weightBytes));
      if (sram > target.memoryBytes()) {
        kernel.emitError("kernel @")
            << kernel.getSymName() << " needs " << sram
            << " bytes of SRAM for one invocation (inputs " << inputBytes
            << ", scratch " << scratchBytes << "; its " << weightBytes
            << " bytes of weights stream through) but " << target.name
            << " has " << target.memoryBytes()
            << "; use a target with more memory or a smaller batch";
        fits = false;
      }
      // A training step does not run an eval-only kernel.
      if (!kernel->hasAttr(wafer::kEvalOnlyAttr)) {
        stepCycles += cost.cycles() * layers * accumulation;
        stepFlops += flops * layers * accumulation;
      }
      kernels.push_back(
          {{"name", kernel.getSymName().str()},
           {"layers", layers},
           {"invocations", layers * accumulation},
           {"pes", target.pes()},
           {"sram_bytes", sram},
           {"flops", flops},
           {"compute_cycles", computeCycles},
           {"stream_cycles", streamCycles},
           {"stream_bytes", weightBytes},
           {"bound", computeCycles >= streamCycles ? "compute" : "stream"},
           {"eval_only", kernel->hasAttr(wafer::kEvalOnlyAttr)}});
    }
    if (!fits)
      return signalPassFailure();

    int64_t parameters = 0;
    for (auto param : module.getOps<wafer::ParamOp>())
      parameters +=
          cast<RankedTensorType>(param.getParamType()).getNumElements() *
          param.getLayers();
    double seconds = stepCycles / target.clockHz;
    nlohmann::json report = {
        {"target", target.name},
        {"kernels", kernels},
        {"totals",
         {{"parameters", parameters},
          {"arena_bytes", plan->arenaBytes},
          {"activation_bytes", plan->activationBytes()},
          {"accumulation", accumulation},
          {"step_flops", stepFlops},
          {"step_seconds", seconds},
          {"utilization",
           seconds > 0 ? stepFlops / (seconds * target.peakFlops()) : 0.0}}}};
    module->setAttr("wafer.report", builder.getStringAttr(report.dump()));
  }
};

} // namespace
