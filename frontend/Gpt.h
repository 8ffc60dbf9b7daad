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

struct GenerationShape {
  int64_t batch = 1;         // samples generated together
  int64_t prefillChunk = 64; // prompt tokens per prefill call
  int64_t context = 0;       // positions the KV cache holds
};

/// Builds @prefill(tokens [batch, chunk], position [1]) and
/// @decode(tokens [batch, 1], position [1]), each giving the logits
/// [batch, vocab] after its last token: the model's forward pass on tokens at
/// positions position.., over a KV cache of `context` positions per layer
/// that both share.
mlir::OwningOpRef<mlir::ModuleOp>
buildGptGenerator(mlir::MLIRContext &context, const Config &config,
                  const GenerationShape &shape);

} // namespace giga

#endif // GIGA_FRONTEND_GPT_H
