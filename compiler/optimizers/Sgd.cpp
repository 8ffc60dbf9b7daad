//===- Sgd.cpp - SGD with momentum ----------------------------------------===//
#include "compiler/optimizers/OptimizerRule.h"
#include "dialects/giga/GigaDialect.h"

using namespace mlir;

namespace giga {
namespace {
class SgdRule : public OptimizerRule {
  void emitUpdate(OpBuilder &builder, Location loc, StringRef name,
                  RankedTensorType type, const UpdateOperands &operands,
                  const OptimizerSettings &settings,
                  double weightDecay) const override {
    builder.create<SgdOp>(loc, builder.getStringAttr(name), TypeAttr::get(type),
                          operands.lr, operands.gradScale,
                          operands.step,
                          builder.getF64FloatAttr(settings.momentum),
                          builder.getF64FloatAttr(weightDecay));
  }
};
} // namespace

std::unique_ptr<OptimizerRule> createSgdRule() {
  return std::make_unique<SgdRule>();
}
} // namespace giga
