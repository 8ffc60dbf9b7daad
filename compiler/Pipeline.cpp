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

void buildCompilePipeline(mlir::OpPassManager &pm,
                          const CompilePipelineOptions &options) {
  // Fusion first, so that micro-batching plans with the fused loss's memory;
  // micro-batching then decides the shapes (and recomputation) that autodiff
  // differentiates.
  pm.addPass(createGigaFuseLinearCrossEntropy(
      GigaFuseLinearCrossEntropyOptions{options.lossChunk, options.wafer}));
  pm.addPass(createWaferMicrobatch(WaferMicrobatchOptions{options.wafer}));
  buildTrainStepPipeline(pm);
  if (options.stopAfter == CompileStage::Giga)
    return;
  pm.addPass(createWaferPartition());
  // Placement reads the plan: a kernel's SRAM is its inputs and scratch.
  pm.addPass(createWaferPlanBuffers());
  pm.addPass(createWaferPlace(WaferPlaceOptions{options.wafer}));
}

void buildGeneratePipeline(mlir::OpPassManager &pm,
                           const GeneratePipelineOptions &options) {
  // No autodiff, optimizer or micro-batching: each entry point is a forward
  // pass, lowered and planned as a training step's is.
  pm.addPass(createWaferPartition());
  pm.addPass(createWaferPlanBuffers());
  pm.addPass(createWaferPlace(WaferPlaceOptions{options.wafer}));
}

void registerCompilerPasses() {
  registerGigaPasses();
  mlir::PassPipelineRegistration<>(
      "giga-train-step-pipeline",
      "the frontend's forward and loss -> one training step: autodiff, then "
      "the optimizer update in the weight store",
      buildTrainStepPipeline);
  mlir::PassPipelineRegistration<CompilePipelineOptions>(
      "giga-compile-pipeline",
      "the frontend's forward and loss -> the planned wafer program for a "
      "target: exactly what gigac compile runs",
      buildCompilePipeline);
  mlir::PassPipelineRegistration<GeneratePipelineOptions>(
      "giga-generate-pipeline",
      "the frontend's generation entry points (prefill, decode) -> their "
      "planned wafer programs, sharing the KV cache: exactly what gigac "
      "compile --task generate runs",
      buildGeneratePipeline);
}
} // namespace giga
