//===- Passes.h - giga's compiler passes ------------------------*- C++ -*-===//
#ifndef GIGA_COMPILER_PASSES_H
#define GIGA_COMPILER_PASSES_H

#include "dialects/giga/GigaDialect.h"
#include "dialects/wafer/WaferDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <algorithm>
#include <string>

namespace giga {

#define GEN_PASS_DECL
#include "compiler/Passes.h.inc"

/// frontend output -> giga-autodiff -> giga-optimizer: one training step.
void buildTrainStepPipeline(mlir::OpPassManager &pm);

/// The last stage giga-compile-pipeline runs; gigac's --emit=giga|wafer.
enum class CompileStage {
  /// The training step in the giga dialect, micro-batched for the target.
  Giga,
  /// Kernels, placement and the buffer plan: what the artifact is written
  /// from.
  Wafer,
};

struct CompilePipelineOptions
    : mlir::PassPipelineOptions<CompilePipelineOptions> {
  Option<std::string> wafer{
      *this, "wafer",
      llvm::cl::desc("the target: wse2, wse3, host or a target JSON file"),
      llvm::cl::init("wse2")};
  Option<CompileStage> stopAfter{
      *this, "stop-after", llvm::cl::desc("the last stage to run"),
      llvm::cl::init(CompileStage::Wafer),
      llvm::cl::values(
          clEnumValN(CompileStage::Giga, "giga",
                     "the training step: forward, backward, optimizer"),
          clEnumValN(CompileStage::Wafer, "wafer",
                     "per-layer kernels, placement and buffer plan"))};
  Option<int64_t> lossChunk{
      *this, "loss-chunk",
      llvm::cl::desc("vocabulary columns of logits at a time in the fused "
                     "head and loss; 0 leaves them unfused; -1 takes the "
                     "target's loss_chunk"),
      llvm::cl::init(-1)};
};

/// The frontend's forward and loss -> the planned wafer program: exactly
/// what `gigac compile` runs (registered as giga-compile-pipeline).
void buildCompilePipeline(mlir::OpPassManager &pm,
                          const CompilePipelineOptions &options);

struct GeneratePipelineOptions
    : mlir::PassPipelineOptions<GeneratePipelineOptions> {
  Option<std::string> wafer{
      *this, "wafer",
      llvm::cl::desc("the target: wse2, wse3, host or a target JSON file"),
      llvm::cl::init("wse2")};
};

/// Generation's entry points (functions marked giga.entry) -> their planned
/// wafer programs (registered as giga-generate-pipeline).
void buildGeneratePipeline(mlir::OpPassManager &pm,
                           const GeneratePipelineOptions &options);

/// Registers every giga pass and the named pipelines with MLIR's registry.
void registerCompilerPasses();

/// Marks the `giga.fill` that seeds the backward pass with d(loss) = 1.
inline constexpr const char *kLossSeedAttr = "giga.loss_seed";
/// On a module: recompute repeated blocks in the backward instead of saving
/// their activations (set by wafer-microbatch).
inline constexpr const char *kRecomputeAttr = "wafer.recompute";

/// On a module, from wafer-microbatch: samples per pass, passes per step.
inline constexpr const char *kMicroBatchAttr = "wafer.micro_batch";
inline constexpr const char *kAccumulationAttr = "wafer.accumulation";

/// Appends the backward pass of `function` (marked giga.loss); with
/// `recompute`, a repeated block saves only its input per layer and its
/// backward computes the rest again.
mlir::LogicalResult differentiateLoss(mlir::func::FuncOp function,
                                      bool recompute);

/// wafer-partition's work; without `requireOptimizer`, a step with no
/// giga.store (an estimate of the forward and backward only) is accepted.
mlir::LogicalResult partitionStep(mlir::ModuleOp module, bool requireOptimizer);

/// Estimated FLOPs of one giga op (0 for data movement).
double opFlops(mlir::Operation *op);

struct Target;

/// What one invocation of a kernel costs on a target (wafer-place's model).
struct KernelCost {
  double flops = 0.0;
  int64_t weightBytes = 0;
  double computeCycles = 0.0;
  double streamCycles = 0.0;
  /// The next layer's weights stream in while this one computes.
  double cycles() const { return std::max(computeCycles, streamCycles); }
};
KernelCost costKernel(mlir::func::FuncOp kernel, const Target &target);

/// The target named by a pass option, or an error on `anchor`.
mlir::FailureOr<Target> loadTargetFor(mlir::Operation *anchor,
                                      const std::string &nameOrPath);

/// The function marked `giga.loss`, or null after an error on `module`.
mlir::func::FuncOp findLossFunction(mlir::ModuleOp module);

} // namespace giga

#endif // GIGA_COMPILER_PASSES_H
