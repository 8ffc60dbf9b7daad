//===- Builder.h - a small graph builder over OpBuilder ---------*- C++ -*-===//
//
// What torch.nn gives model.py: parameters by name, linear and layernorm
// modules, and the tensor ops, each computing its result shape so the model
// code never spells out types.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_FRONTEND_BUILDER_H
#define GIGA_FRONTEND_BUILDER_H

#include "dialects/giga/GigaDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>
#include <vector>

namespace giga {

struct Init {
  InitKind kind;
  double std = 0.0;
  static Init normal(double std) { return {InitKind::normal, std}; }
  static Init zeros() { return {InitKind::zeros}; }
  static Init ones() { return {InitKind::ones}; }
};

class GraphBuilder {
public:
  GraphBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : builder(builder), loc(loc) {}

  mlir::RankedTensorType f32(llvm::ArrayRef<int64_t> shape) const;
  mlir::RankedTensorType ids(llvm::ArrayRef<int64_t> shape) const;
  static llvm::ArrayRef<int64_t> shape(mlir::Value value);

  /// Parameter names are prefixed by the enclosing scopes, "attn.q.weight".
  mlir::Value param(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                    Init init);

  // Modules: a weight [out, in] and a bias, as torch.nn.Linear.
  mlir::Value linear(llvm::StringRef name, mlir::Value x, int64_t outFeatures,
                     double initStd);
  mlir::Value layerNorm(llvm::StringRef name, mlir::Value x, double epsilon);
  /// RMSNorm with a learned scale `name.weight` (no bias).
  mlir::Value rmsNorm(llvm::StringRef name, mlir::Value x, double epsilon);

  // Ops.
  mlir::Value embedding(mlir::Value table, mlir::Value ids);
  mlir::Value iota(int64_t count);
  mlir::Value matmul(mlir::Value lhs, mlir::Value rhs, bool transposeLhs,
                     bool transposeRhs);
  mlir::Value add(mlir::Value lhs, mlir::Value rhs);
  mlir::Value biasAdd(mlir::Value x, mlir::Value bias);
  mlir::Value gelu(mlir::Value x, bool tanh);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> permutation);
  mlir::Value causalMask(int64_t sequence);
  mlir::Value attention(mlir::Value q, mlir::Value k, mlir::Value v,
                        mlir::Value mask, double scale);
  mlir::Value crossEntropy(mlir::Value logits, mlir::Value targets);
  mlir::Value slice(mlir::Value x, int64_t axis, int64_t start, int64_t size);

  // Generation: a chunk of `count` tokens from position `start` (i32 [1]).
  mlir::Value positions(mlir::Value start, int64_t count);
  mlir::Value positionMask(mlir::Value start, int64_t queries, int64_t keys);
  /// Writes `update` [B, H, S, D] at `start` into the cache `name` of
  /// `rows` rows (one per layer inside a repeat) and returns all of it.
  mlir::Value kvCache(llvm::StringRef name, mlir::Value update,
                      mlir::Value start, int64_t rows);

  /// Runs `body` `count` times on the carried value, with its own parameters
  /// each time (named "<prefix>.<i>.<name>").
  mlir::Value repeat(int64_t count, llvm::StringRef prefix, mlir::Value init,
                     llvm::function_ref<mlir::Value(mlir::Value)> body);

private:
  std::string scoped(llvm::StringRef name) const;

  mlir::OpBuilder &builder;
  mlir::Location loc;
  std::vector<std::string> scopes;
};

} // namespace giga

#endif // GIGA_FRONTEND_BUILDER_H
