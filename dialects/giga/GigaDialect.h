//===- GigaDialect.h - the giga dialect -------------------------*- C++ -*-===//
#ifndef GIGA_DIALECTS_GIGA_GIGADIALECT_H
#define GIGA_DIALECTS_GIGA_GIGADIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/giga/VJPContext.h"

#include "dialects/giga/GigaDialect.h.inc"
#include "dialects/giga/GigaEnums.h.inc"
#include "dialects/giga/GigaInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/giga/GigaOps.h.inc"

namespace giga {
/// A function that is an entry point of its own (generation's prefill and
/// decode) is marked `giga.entry = "<name>"`; each argument and result
/// carries its binding's name (`giga.binding`), and an i32 argument its
/// range (`giga.limit`: values in [0, limit)). `giga.context` on the module:
/// the positions a generation module's KV caches hold.
inline constexpr const char *kEntryAttr = "giga.entry";
inline constexpr const char *kBindingAttr = "giga.binding";
inline constexpr const char *kLimitAttr = "giga.limit";
inline constexpr const char *kContextAttr = "giga.context";
inline constexpr const char *kPrefill = "prefill";
inline constexpr const char *kDecode = "decode";

/// The result type of giga.matmul on these operand types.
mlir::RankedTensorType inferMatmulType(mlir::RankedTensorType lhs,
                                       mlir::RankedTensorType rhs,
                                       bool transposeLhs, bool transposeRhs);
} // namespace giga

#endif // GIGA_DIALECTS_GIGA_GIGADIALECT_H
