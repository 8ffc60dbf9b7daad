//===- AdamW.cpp - AdamW with decoupled weight decay ----------------------===//
#include "compiler/optimizers/OptimizerRule.h"
#include "dialects/giga/GigaDialect.h"

using namespace mlir;

namespace giga {
namespace {
class AdamWRule : public OptimizerRule {
  void emitUpdate(OpBuilder &builder, Location loc, StringRef name,
                  RankedTensorType type, const UpdateOperands &operands,
                  const OptimizerSettings &settings,
                  double weightDecay) const override {
    builder.create<AdamWOp>(
        loc, builder.getStringAttr(name), TypeAttr::get(type), operands.lr,
        operands.gradScale, operands.step,
        builder.getF64FloatAttr(settings.beta1),
        builder.getF64FloatAttr(settings.beta2),
        builder.getF64FloatAttr(settings.epsilon),
        builder.getF64FloatAttr(weightDecay));
  }
};
} // namespace

std::unique_ptr<OptimizerRule> createAdamWRule() {
  return std::make_unique<AdamWRule>();
}
} // namespace giga
