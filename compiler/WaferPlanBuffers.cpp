//===- WaferPlanBuffers.cpp - show the arena plan as attributes -----------===//
#include "compiler/BufferPlan.h"
#include "compiler/Passes.h"

#include "mlir/IR/Builders.h"

namespace giga {
#define GEN_PASS_DEF_WAFERPLANBUFFERS
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {
struct WaferPlanBuffersPass
    : giga::impl::WaferPlanBuffersBase<WaferPlanBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<BufferPlan> plan = planBuffers(module);
    if (failed(plan))
      return signalPassFailure();
    Builder builder(module.getContext());
    auto offsetOf = [&](Value value) -> int64_t {
      auto it = plan->refs.find(value);
      return it == plan->refs.end() ? -1
                                    : plan->buffers[it->second.buffer].offset;
    };
    module.walk([&](Operation *op) {
      if (op->getNumResults() == 0 || isa<ModuleOp>(op))
        return;
      SmallVector<int64_t> offsets;
      for (Value result : op->getResults())
        offsets.push_back(offsetOf(result));
      op->setAttr("wafer.offsets", builder.getDenseI64ArrayAttr(offsets));
    });
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.getBody().empty())
        continue;
      SmallVector<int64_t> offsets;
      for (Value argument : function.getArguments())
        offsets.push_back(offsetOf(argument));
      function->setAttr("wafer.arg_offsets",
                        builder.getDenseI64ArrayAttr(offsets));
      if (auto it = plan->kernels.find(function); it != plan->kernels.end())
        function->setAttr("wafer.scratch_bytes",
                          builder.getI64IntegerAttr(it->second.scratchBytes));
      if (function->hasAttr(wafer::kProgramAttr)) {
        function->setAttr("wafer.arena_bytes",
                          builder.getI64IntegerAttr(plan->arenaBytes));
        function->setAttr("wafer.program_bytes",
                          builder.getI64IntegerAttr(plan->programBytes));
      }
    }
  }
};
} // namespace
