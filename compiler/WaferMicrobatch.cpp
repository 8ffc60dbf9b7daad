//===- WaferMicrobatch.cpp - split the batch until activations fit --------===//
#include "compiler/BufferPlan.h"
#include "compiler/Passes.h"
#include "compiler/Target.h"
#include "frontend/Config.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <optional>

namespace giga {
#define GEN_PASS_DEF_WAFERMICROBATCH
#include "compiler/Passes.h.inc"
} // namespace giga

using namespace mlir;
using namespace giga;

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Rewrites the forward pass for another batch size: follows the batch
/// dimension from the inputs through every op and scales it in each type.
class BatchRescaler {
public:
  BatchRescaler(int64_t from, int64_t to) : from(from), to(to) {}

  LogicalResult run(func::FuncOp function) {
    for (BlockArgument argument : function.getArguments())
      if (!shapeOf(argument).empty() && shapeOf(argument)[0] == from)
        batchDim[argument] = 0;
    if (failed(visit(function.getBody().front())))
      return failure();
    for (auto [value, dim] : batchDim)
      value.setType(scaled(value, dim));
    function.setType(FunctionType::get(
        function.getContext(), function.getBody().front().getArgumentTypes(),
        function.getFunctionType().getResults()));
    return success();
  }

private:
  Type scaled(Value value, int64_t dim) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] = shape[dim] / from * to;
    return RankedTensorType::get(shape, type.getElementType());
  }

  int64_t dimOf(Value value) {
    auto it = batchDim.find(value);
    return it == batchDim.end() ? -1 : it->second;
  }

  LogicalResult set(Operation *op, Value result, int64_t dim) {
    if (dim < 0)
      return success();
    if (shapeOf(result)[dim] % from != 0)
      return op->emitOpError("has a dimension of ")
             << shapeOf(result)[dim] << " that does not split with the batch "
             << from << "; wafer-microbatch cannot micro-batch this model";
    batchDim[result] = dim;
    return success();
  }

  LogicalResult unsupported(Operation *op) {
    return op->emitOpError("mixes the batch dimension in a way "
                           "wafer-microbatch cannot follow; compile with a "
                           "batch whose activations fit the target");
  }

  LogicalResult visit(Block &block) {
    for (Operation &op : block) {
      if (failed(visitOp(&op)))
        return failure();
    }
    return success();
  }

  LogicalResult visitOp(Operation *op) {
    auto same = [&](Value input) {
      return set(op, op->getResult(0), dimOf(input));
    };
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case<ParamOp, IotaOp, CausalMaskOp, FillOp, CrossEntropyOp,
              func::ReturnOp, YieldOp>([](Operation *) { return success(); })
        .Case([&](EmbeddingOp embed) { return same(embed.getIds()); })
        .Case([&](LinearCrossEntropyOp loss) {
          int64_t dim = dimOf(loss.getInput());
          if (dim + 1 == int64_t(shapeOf(loss.getInput()).size()) ||
              dimOf(loss.getWeight()) >= 0)
            return unsupported(op);
          return success(); // a mean, as cross_entropy's
        })
        .Case([&](AddOp add) {
          if (dimOf(add.getRhs()) >= 0 &&
              dimOf(add.getRhs()) + shapeOf(add.getLhs()).size() -
                      shapeOf(add.getRhs()).size() !=
                  uint64_t(dimOf(add.getLhs())))
            return unsupported(op);
          return same(add.getLhs());
        })
        .Case<BiasAddOp, LayerNormOp, RmsNormOp, GeluOp, AttentionOp>(
            [&](Operation *) { return same(op->getOperand(0)); })
        .Case([&](SoftmaxOp softmax) {
          int64_t rank = shapeOf(softmax.getInput()).size();
          int64_t axis = softmax.getAxisAttr().getInt();
          if ((axis + rank) % rank == dimOf(softmax.getInput()))
            return unsupported(op);
          return same(softmax.getInput());
        })
        .Case([&](ReshapeOp reshape) {
          int64_t dim = dimOf(reshape.getInput());
          if (dim > 0)
            return unsupported(op);
          return set(op, reshape.getResult(), dim);
        })
        .Case([&](TransposeOp transpose) {
          int64_t dim = dimOf(transpose.getInput());
          if (dim < 0)
            return success();
          ArrayRef<int64_t> permutation = transpose.getPermutation();
          auto it = llvm::find(permutation, dim);
          return set(op, transpose.getResult(), it - permutation.begin());
        })
        .Case([&](SplitOp split) {
          int64_t dim = dimOf(split.getInput());
          if (dim >= 0 && dim == split.getAxisAttr().getInt())
            return unsupported(op);
          for (Value result : split.getResults())
            if (failed(set(op, result, dim)))
              return failure();
          return success();
        })
        .Case([&](MatmulOp matmul) {
          int64_t rank = shapeOf(matmul.getLhs()).size();
          int64_t dim = dimOf(matmul.getLhs());
          int64_t rhsDim = dimOf(matmul.getRhs());
          bool contracted =
              dim == rank - 1 || (dim == rank - 2 && matmul.getTransposeLhs());
          if (contracted || (rhsDim >= 0 && rhsDim != dim))
            return unsupported(op);
          return set(op, matmul.getResult(), dim);
        })
        .Case([&](RepeatOp repeat) {
          Block &body = repeat.getBodyBlock();
          for (auto [argument, init] :
               llvm::zip(body.getArguments(), repeat->getOperands()))
            if (dimOf(init) >= 0)
              batchDim[argument] = dimOf(init);
          if (failed(visit(body)))
            return failure();
          for (auto [result, yielded] : llvm::zip(
                   repeat.getResults(), body.getTerminator()->getOperands()))
            if (failed(set(op, result, dimOf(yielded))))
              return failure();
          return success();
        })
        .Default([&](Operation *) { return unsupported(op); });
  }

  int64_t from, to;
  llvm::MapVector<Value, int64_t> batchDim;
};

/// What one training pass at a micro-batch costs, from the same autodiff,
/// partition and buffer plan the real compile runs.
struct Estimate {
  int64_t activationBytes = 0;
  double seconds = 0.0; // per optimizer step
};

FailureOr<Estimate> estimate(ModuleOp forward, int64_t micro, int64_t batch,
                             bool recompute, const Target &target) {
  OwningOpRef<ModuleOp> clone = cast<ModuleOp>(forward->clone());
  func::FuncOp loss = findLossFunction(*clone);
  if (!loss)
    return failure();
  if (micro != batch && failed(BatchRescaler(batch, micro).run(loss)))
    return failure();
  if (failed(differentiateLoss(loss, recompute)) ||
      failed(partitionStep(*clone, /*requireOptimizer=*/false)))
    return failure();
  FailureOr<BufferPlan> plan = planBuffers(*clone);
  if (failed(plan))
    return failure();
  double cycles = 0.0;
  for (auto kernel : clone->getOps<func::FuncOp>())
    if (kernel->hasAttr(wafer::kKernelAttr))
      cycles += costKernel(kernel, target).cycles() *
                kernel->getAttrOfType<IntegerAttr>(wafer::kLayersAttr).getInt();
  return Estimate{plan->activationBytes(),
                  cycles * double(batch / micro) / target.clockHz};
}

struct WaferMicrobatchPass
    : giga::impl::WaferMicrobatchBase<WaferMicrobatchPass> {
  using WaferMicrobatchBase::WaferMicrobatchBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Target> loaded = loadTargetFor(module, wafer);
    if (failed(loaded))
      return signalPassFailure();
    const Target &target = *loaded;
    func::FuncOp loss = findLossFunction(module);
    if (!loss)
      return signalPassFailure();
    if (loss.getNumArguments() == 0 || shapeOf(loss.getArgument(0)).empty()) {
      loss.emitOpError("must take the batch of tokens as its first argument");
      return signalPassFailure();
    }
    int64_t batch = shapeOf(loss.getArgument(0))[0];
    int64_t memory = target.memoryBytes();
    Builder builder(module.getContext());

    // For each way of keeping activations (saving them, or recomputing
    // each block in its backward, which keeps one tensor per layer), the
    // largest micro-batch that fits; then whichever gives the shorter
    // estimated step: small micro-batches stream the weights more often.
    struct Choice {
      int64_t micro = 0;
      bool recompute = false;
      Estimate cost;
    };
    std::optional<Choice> best;
    int64_t smallestNeed = 0;
    // The batch's divisors, largest first, found up to its square root: a
    // walk over every smaller micro-batch would be linear in the batch.
    SmallVector<int64_t> small, large;
    for (int64_t d = 1; d <= batch / d; ++d)
      if (batch % d == 0) {
        small.push_back(d);
        if (d != batch / d)
          large.push_back(batch / d);
      }
    SmallVector<int64_t> divisors(large.begin(), large.end());
    divisors.append(small.rbegin(), small.rend());
    for (bool recompute : {false, true}) {
      for (int64_t micro : divisors) {
        FailureOr<Estimate> cost =
            estimate(module, micro, batch, recompute, target);
        if (failed(cost))
          return signalPassFailure();
        smallestNeed = cost->activationBytes;
        if (cost->activationBytes > memory)
          continue;
        if (!best || cost->seconds < best->cost.seconds)
          best = Choice{micro, recompute, *cost};
        break;
      }
    }
    if (best) {
      if (best->micro != batch &&
          failed(BatchRescaler(batch, best->micro).run(loss)))
        return signalPassFailure();
      module->setAttr(kMicroBatchAttr, builder.getI64IntegerAttr(best->micro));
      module->setAttr(kAccumulationAttr,
                      builder.getI64IntegerAttr(batch / best->micro));
      module->setAttr("wafer.activation_bytes",
                      builder.getI64IntegerAttr(best->cost.activationBytes));
      if (best->recompute)
        module->setAttr(kRecomputeAttr, builder.getUnitAttr());
      return;
    }
    module.emitError("even one sample does not fit ")
        << target.name << ": its activations need " << smallestNeed
        << " bytes with per-layer recomputation, but the target has " << memory
        << " bytes; shorten the sequence, narrow the model or "
           "use a target with more memory";
    signalPassFailure();
  }
};

} // namespace
