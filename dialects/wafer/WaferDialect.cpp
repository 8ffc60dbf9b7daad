//===- WaferDialect.cpp - the wafer dialect and its verifiers -------------===//
#include "dialects/wafer/WaferDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace wafer;

#include "dialects/wafer/WaferDialect.cpp.inc"

void WaferDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/wafer/WaferOps.cpp.inc"
      >();
}

namespace {
RankedTensorType stackedType(int64_t layers, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape{layers};
  llvm::append_range(shape, tensor.getShape());
  return RankedTensorType::get(shape, tensor.getElementType());
}

/// The kernel an op sits in, or an error on the op.
FailureOr<func::FuncOp> enclosingKernel(Operation *op) {
  auto kernel = op->getParentOfType<func::FuncOp>();
  if (!kernel || !kernel->hasAttr(kKernelAttr))
    return op->emitOpError("must be inside a kernel (a func.func with the "
                           "'wafer.kernel' attribute)");
  return kernel;
}

/// The table entry a kernel's stream refers to: the parameter of the
/// kernel's group with that name, else the top-level one.
FailureOr<ParamOp> lookupParam(Operation *op, StringRef name, Type type) {
  FailureOr<func::FuncOp> kernel = enclosingKernel(op);
  if (failed(kernel))
    return failure();
  auto group = (*kernel)->getAttrOfType<StringAttr>(kGroupAttr);
  StringRef kernelGroup = group ? group.getValue() : "";
  ParamOp found;
  auto module = op->getParentOfType<ModuleOp>();
  for (auto param : module.getOps<ParamOp>()) {
    if (param.getName() != name)
      continue;
    if (param.getGroup() == kernelGroup || (!found && param.getGroup().empty()))
      found = param;
  }
  if (!found)
    return op->emitOpError("streams parameter '")
           << name << "', which is not in the module's wafer.param table";
  if (found.getParamType() != type)
    return op->emitOpError("has type ")
           << type << " but parameter '" << name << "' is "
           << found.getParamType();
  return found;
}
} // namespace

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a name");
  StringRef init = getInit();
  if (init != "normal" && init != "zeros" && init != "ones")
    return emitOpError("init must be normal, zeros or ones, not '")
           << init << "'";
  double std = getStd().convertToDouble();
  if ((init == "normal") != (std > 0.0))
    return emitOpError("std must be positive for normal init and 0 otherwise, "
                       "but is ")
           << std;
  if (getGroup().empty() && getLayers() != 1)
    return emitOpError("has ") << getLayers()
                               << " layers but no group; only grouped "
                                  "parameters repeat per layer";
  if (getWeightDecay().convertToDouble() < 0.0)
    return emitOpError("weight decay must not be negative");
  auto type = dyn_cast<RankedTensorType>(getParamType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
    return emitOpError("param_type must be a static f32 tensor, not ")
           << getParamType();
  return success();
}

LogicalResult StreamInOp::verify() {
  return lookupParam(*this, getName(), getWeights().getType());
}

LogicalResult StreamOutOp::verify() {
  return lookupParam(*this, getName(), getGrad().getType());
}

LogicalResult InvokeOp::verifySymbolUses(SymbolTableCollection &symbols) {
  auto kernel =
      symbols.lookupNearestSymbolFrom<func::FuncOp>(*this, getKernelAttr());
  if (!kernel || !kernel->hasAttr(kKernelAttr))
    return emitOpError("invokes '")
           << getKernel() << "', which is not a kernel in this module";
  FunctionType type = kernel.getFunctionType();
  auto layersAttr = kernel->getAttrOfType<IntegerAttr>(kLayersAttr);
  auto group = kernel->getAttrOfType<StringAttr>(kGroupAttr);
  if (!group || group.getValue().empty()) {
    if (getArgs().getTypes() != type.getInputs() ||
        getResults().getTypes() != type.getResults())
      return emitOpError("types ")
             << FunctionType::get(getContext(), getArgs().getTypes(),
                                  getResults().getTypes())
             << " do not match kernel @" << getKernel() << " of type "
             << type;
    return success();
  }
  int64_t layers = layersAttr ? layersAttr.getInt() : 1;
  auto carriedAttr = kernel->getAttrOfType<IntegerAttr>(kCarriedAttr);
  auto slicedAttr = kernel->getAttrOfType<IntegerAttr>(kSlicedAttr);
  if (!carriedAttr || !slicedAttr)
    return emitOpError("invokes grouped kernel @")
           << getKernel()
           << ", which needs integer 'wafer.carried' and 'wafer.sliced' "
              "attributes";
  int64_t carried = carriedAttr.getInt();
  int64_t sliced = slicedAttr.getInt();
  if (carried < 0 || sliced < 0 ||
      carried + sliced > int64_t(type.getNumInputs()) ||
      carried > int64_t(type.getNumResults()))
    return emitOpError("invokes grouped kernel @")
           << getKernel() << " with " << carried << " carried and " << sliced
           << " sliced operands, but the kernel takes " << type.getNumInputs()
           << " operands and returns " << type.getNumResults() << " results";
  auto ranked = [](Type t) { return isa<RankedTensorType>(t); };
  if (!llvm::all_of(type.getInputs().slice(carried, sliced), ranked) ||
      !llvm::all_of(type.getResults().drop_front(carried), ranked))
    return emitOpError("invokes grouped kernel @")
           << getKernel()
           << ", whose sliced operands and stacked results must be ranked "
              "tensors";
  SmallVector<Type> args, results;
  for (auto [index, input] : llvm::enumerate(type.getInputs()))
    args.push_back(int64_t(index) >= carried &&
                           int64_t(index) < carried + sliced
                       ? stackedType(layers, input)
                       : input);
  for (auto [index, result] : llvm::enumerate(type.getResults()))
    results.push_back(int64_t(index) < carried ? result
                                               : stackedType(layers, result));
  if (getArgs().getTypes() != TypeRange(args) ||
      getResults().getTypes() != TypeRange(results))
    return emitOpError("types ")
           << FunctionType::get(getContext(), getArgs().getTypes(),
                                getResults().getTypes())
           << " do not match grouped kernel @" << getKernel() << " run for "
           << layers << " layers, which expects "
           << FunctionType::get(getContext(), args, results);
  return success();
}

LogicalResult UpdateOp::verify() {
  if (getOptimizer() != "adamw" && getOptimizer() != "sgd")
    return emitOpError("optimizer must be adamw or sgd, not '")
           << getOptimizer() << "'";
  if (!(getLearningRate().convertToDouble() > 0.0))
    return emitOpError("learning rate must be positive");
  if (!(getMaxGradientNorm().convertToDouble() > 0.0))
    return emitOpError("max_gradient_norm must be positive");
  return success();
}

#define GET_OP_CLASSES
#include "dialects/wafer/WaferOps.cpp.inc"
