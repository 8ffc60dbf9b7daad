//===- GigaFuseLinearCrossEntropy.cpp - fuse the head and the loss --------===//
#include "compiler/Passes.h"
#include "compiler/Target.h"

#include "mlir/IR/Builders.h"

namespace giga {
#define GEN_PASS_DEF_GIGAFUSELINEARCROSSENTROPY
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// The matmul whose logits only `loss` reads, when it is x [..., C] times a
/// shared wᵀ for w [V, C]: what linear_cross_entropy computes.
MatmulOp fusableHead(CrossEntropyOp loss) {
  auto head = loss.getLogits().getDefiningOp<MatmulOp>();
  if (!head || !head->hasOneUse() || head.getTransposeLhs() ||
      !head.getTransposeRhs() || shapeOf(head.getRhs()).size() != 2)
    return {};
  return head;
}

struct GigaFuseLinearCrossEntropyPass
    : giga::impl::GigaFuseLinearCrossEntropyBase<
          GigaFuseLinearCrossEntropyPass> {
  using GigaFuseLinearCrossEntropyBase::GigaFuseLinearCrossEntropyBase;

  void runOnOperation() override {
    int64_t columns = chunk, maxWidth = 0;
    if (columns < 0) {
      FailureOr<Target> target = loadTargetFor(getOperation(), wafer);
      if (failed(target))
        return signalPassFailure();
      columns = target->lossChunk;
      maxWidth = target->lossFusionMaxWidth;
    }
    if (columns == 0)
      return;
    SmallVector<std::pair<CrossEntropyOp, MatmulOp>> fusable;
    getOperation().walk([&](CrossEntropyOp loss) {
      MatmulOp head = fusableHead(loss);
      if (head && (maxWidth == 0 || shapeOf(head.getRhs())[1] <= maxWidth))
        fusable.push_back({loss, head});
    });
    for (auto [loss, head] : fusable) {
      int64_t classes = shapeOf(head.getRhs())[0];
      OpBuilder builder(loss);
      auto fused = builder.create<LinearCrossEntropyOp>(
          loss.getLoc(), loss.getLoss().getType(), head.getLhs(), head.getRhs(),
          loss.getTargets(),
          builder.getI64IntegerAttr(std::min(columns, classes)));
      loss.getLoss().replaceAllUsesWith(fused.getLoss());
      loss.erase();
      head.erase();
    }
  }
};

} // namespace
