//===- GigaDialect.td - the giga graph-level dialect -------*- tablegen -*-===//
#ifndef GIGA_DIALECT_TD
#define GIGA_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Giga_Dialect : Dialect {
  let name = "giga";
  let cppNamespace = "::giga";
  let summary = "Graph-level ops of a GPT training step on static-shaped tensors";
  let description = [{
    The `giga` dialect holds a model as the frontend writes it: parameters
    declared by name, shape and initialisation, and the ops of a GPT forward
    pass and its loss on statically shaped tensors. Blocks that repeat with
    their own weights are written once inside `giga.repeat`, so the IR does
    not grow with depth.
  }];
}

def Giga_InitKind : I32EnumAttr<"InitKind", "how a parameter is initialised", [
  I32EnumAttrCase<"normal", 0>,
  I32EnumAttrCase<"zeros", 1>,
  I32EnumAttrCase<"ones", 2>
]> {
  let cppNamespace = "::giga";
}

class Giga_Op<string mnemonic, list<Trait> traits = []>
    : Op<Giga_Dialect, mnemonic, traits>;

// Activations are f32; token ids are any integer type.
def Giga_FloatTensor : StaticShapeTensorOf<[F32]>;
def Giga_IdTensor : StaticShapeTensorOf<[AnyInteger]>;
def Giga_F32Scalar : 0DTensorOf<[F32]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getF32Type())";
}
def Giga_I64Scalar : 0DTensorOf<[I64]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getI64Type())";
}

#endif // GIGA_DIALECT_TD
