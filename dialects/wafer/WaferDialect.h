//===- WaferDialect.h - the wafer dialect -----------------------*- C++ -*-===//
#ifndef GIGA_DIALECTS_WAFER_WAFERDIALECT_H
#define GIGA_DIALECTS_WAFER_WAFERDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/wafer/WaferDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/wafer/WaferOps.h.inc"

namespace wafer {
/// Attributes of a kernel (a func.func holding giga ops).
inline constexpr const char *kKernelAttr = "wafer.kernel";
inline constexpr const char *kGroupAttr = "wafer.group";
inline constexpr const char *kLayersAttr = "wafer.layers";
inline constexpr const char *kReverseAttr = "wafer.reverse";
inline constexpr const char *kBackwardAttr = "wafer.backward";
/// A forward kernel that eval_step runs and train_step does not: a loss the
/// backward computes again with its gradient (giga.linear_cross_entropy).
inline constexpr const char *kEvalOnlyAttr = "wafer.eval_only";
inline constexpr const char *kCarriedAttr = "wafer.carried";
inline constexpr const char *kSlicedAttr = "wafer.sliced";
/// A program: a function that invokes the kernels (the training step, or a
/// generation entry point).
inline constexpr const char *kProgramAttr = "wafer.program";
} // namespace wafer

#endif // GIGA_DIALECTS_WAFER_WAFERDIALECT_H
