//===- Gpt.h - the GPT-2 model as gigaGPT defines it ------------*- C++ -*-===//
#ifndef GIGA_FRONTEND_GPT_H
#define GIGA_FRONTEND_GPT_H

#include "frontend/Config.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace giga {

/// The name of the function that computes the loss; the autodiff pass finds
/// it by the unit attribute of the same name.
inline constexpr const char *kLossAttr = "giga.loss";

/// Builds a module with one function, @gpt(tokens, targets) -> loss, marked
/// `giga.loss`, and the config as module attributes.
mlir::OwningOpRef<mlir::ModuleOp> buildGpt(mlir::MLIRContext &context,
                                           const Config &config);

} // namespace giga

#endif // GIGA_FRONTEND_GPT_H
