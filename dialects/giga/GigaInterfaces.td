//===- GigaInterfaces.td - the VJP interface ---------------*- tablegen -*-===//
#ifndef GIGA_INTERFACES_TD
#define GIGA_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Giga_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::giga";
  let description = [{
    An op that builds its own vector-Jacobian product from giga ops, so
    `giga-autodiff` can derive the backward pass of any model made of them.
  }];
  let methods = [
    InterfaceMethod<[{
        Given the gradients of this op's results (null where a result has
        none), appends the gradient of each operand to `operandGrads` (null
        where `context.needsGrad(operand)` is false or the operand is not
        differentiable). Forward values the backward needs are read through
        `context.forward(value)`, never directly: the backward may run in
        another region, where the driver provides them.
      }],
      "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder, "::giga::VJPContext &":$context,
           "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // GIGA_INTERFACES_TD
