//===- Passes.h - giga's compiler passes ------------------------*- C++ -*-===//
#ifndef GIGA_COMPILER_PASSES_H
#define GIGA_COMPILER_PASSES_H

#include "dialects/giga/GigaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace giga {

#define GEN_PASS_DECL
#include "compiler/Passes.h.inc"

/// frontend output -> giga-autodiff -> giga-optimizer: one training step.
void buildTrainStepPipeline(mlir::OpPassManager &pm);

/// Registers every giga pass and the named pipelines with MLIR's registry.
void registerCompilerPasses();

/// The function marked `giga.loss`, or null after an error on `module`.
mlir::func::FuncOp findLossFunction(mlir::ModuleOp module);

} // namespace giga

#endif // GIGA_COMPILER_PASSES_H
