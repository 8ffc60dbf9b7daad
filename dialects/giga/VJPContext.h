//===- VJPContext.h - what a VJP may ask of the autodiff driver -*- C++ -*-===//
#ifndef GIGA_DIALECTS_GIGA_VJPCONTEXT_H
#define GIGA_DIALECTS_GIGA_VJPCONTEXT_H

#include "mlir/IR/Value.h"

namespace giga {

/// The autodiff driver's side of a VJP: it decides which operands need a
/// gradient and how a forward value reaches the backward code (as is, as a
/// saved activation, or re-declared, as parameters are).
class VJPContext {
public:
  virtual ~VJPContext() = default;
  /// `value`, a forward value, as the backward code may use it.
  virtual mlir::Value forward(mlir::Value value) = 0;
  /// Whether `operand` depends on a parameter, so its gradient is wanted.
  virtual bool needsGrad(mlir::Value operand) = 0;
};

} // namespace giga

#endif // GIGA_DIALECTS_GIGA_VJPCONTEXT_H
