//===- Pipeline.cpp - giga's named pass pipelines -------------------------===//
#include "compiler/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace giga {
#define GEN_PASS_REGISTRATION
#include "compiler/Passes.h.inc"

void buildTrainStepPipeline(mlir::OpPassManager &pm) {
  pm.addPass(createGigaAutodiff());
  // VJPs reshape the same saved activation once per use; keep one.
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createGigaOptimizer());
}

void registerCompilerPasses() {
  registerGigaPasses();
  mlir::PassPipelineRegistration<>(
      "giga-train-step-pipeline",
      "the frontend's forward and loss -> one training step: autodiff, then "
      "the optimizer update in the weight store",
      buildTrainStepPipeline);
}
} // namespace giga
