//===- OptimizerRule.h - one update rule of giga-optimizer ------*- C++ -*-===//
//
// giga-optimizer builds what every optimizer shares (gradient norm, clip
// factor, learning-rate schedule, the walk over parameters); a rule only
// emits the update of one parameter. A new optimizer is a new rule here, an
// op in GigaOps.td and a store kernel.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_COMPILER_OPTIMIZERS_OPTIMIZERRULE_H
#define GIGA_COMPILER_OPTIMIZERS_OPTIMIZERRULE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <memory>

namespace giga {

/// The run settings an update reads, from the module's `giga.run`.
struct OptimizerSettings {
  double weightDecay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double epsilon = 1e-8;
  double momentum = 0.9;
};

/// The scalars every update takes: the scheduled learning rate, the clip
/// factor for the gradient and the step number.
struct UpdateOperands {
  mlir::Value lr;
  mlir::Value gradScale;
  mlir::Value step;
};

class OptimizerRule {
public:
  virtual ~OptimizerRule() = default;
  /// Emits the update of the parameter `name`; `weightDecay` is already 0
  /// for parameters that take none (rank < 2).
  virtual void emitUpdate(mlir::OpBuilder &builder, mlir::Location loc,
                          llvm::StringRef name, mlir::RankedTensorType type,
                          const UpdateOperands &operands,
                          const OptimizerSettings &settings,
                          double weightDecay) const = 0;
};

std::unique_ptr<OptimizerRule> createAdamWRule();
std::unique_ptr<OptimizerRule> createSgdRule();

} // namespace giga

#endif // GIGA_COMPILER_OPTIMIZERS_OPTIMIZERRULE_H
