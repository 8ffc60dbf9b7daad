//===- WaferPlanBuffers.cpp - plan the arena, record it in the IR ---------===//
#include "compiler/BufferPlan.h"
#include "compiler/Passes.h"

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
    recordBufferPlan(module, *plan);
  }
};
} // namespace
