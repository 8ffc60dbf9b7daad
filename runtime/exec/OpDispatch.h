//===- OpDispatch.h - artifact ops checked and mapped to kernels -*- C++
//-*-===//
//
// Private to runtime/exec. prepareOp() checks one artifact op against the op
// table of docs/artifact.md (name, operand count, dtypes, shapes, attributes)
// and precomputes everything its execution needs (sizes, matmul plans, scratch
// size); runOp() then calls the kernel library with resolved pointers.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_EXEC_OPDISPATCH_H
#define GIGA_RUNTIME_EXEC_OPDISPATCH_H

#include "runtime/artifact/Artifact.h"
#include "runtime/kernels/Kernels.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace giga::exec::detail {

enum class OpKind {
  Embedding,
  EmbeddingGrad,
  Iota,
  CausalMask,
  Fill,
  Matmul,
  Add,
  BiasAdd,
  ReduceSum,
  LayerNorm,
  LayerNormGrad,
  Gelu,
  GeluGrad,
  Softmax,
  SoftmaxGrad,
  Attention,
  AttentionGrad,
  CrossEntropy,
  CrossEntropyGrad,
  Transpose,
  Copy,
  Split,
  Concat,
};

/// Every op name the executor accepts (the op table of docs/artifact.md).
const std::vector<std::string> &knownOps();

/// An operand as the op sees it: a stacked buffer's slice with per_layer,
/// the whole stacked buffer ([layers, ...shape]) without.
struct OperandView {
  int32_t buffer = -1;
  bool perLayer = false;
  artifact::DType dtype = artifact::DType::F32;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  int64_t bytes = 0;
  int64_t layerStride = 0; // bytes between layers (per_layer only)
};

/// Matmul plans shared by every op with the same shape.
class PlanCache {
public:
  const kernels::MatmulPlan *get(const kernels::MatmulShape &shape);
  size_t size() const { return plans.size(); }

private:
  std::map<kernels::MatmulShape, std::unique_ptr<kernels::MatmulPlan>> plans;
};

struct PreparedOp {
  OpKind kind = OpKind::Copy;
  std::string where; // "kernel 'h.fwd' op 3 'matmul'"
  std::vector<OperandView> inputs, outputs;
  /// Output i may be exactly input inPlace[i] (elementwise kernels); -1: may
  /// not overlap any input.
  std::vector<std::vector<int>> inPlaceAllowed;

  // Sizes; their meaning depends on the kind (see OpDispatch.cpp).
  int64_t rows = 0, cols = 0, count = 0, outer = 0, inner = 0;
  int64_t elementSize = 4;
  float value = 0.0f;
  bool flag = false;
  std::vector<int64_t> dims, strides, sizes;
  kernels::AttentionShape attention;
  const kernels::MatmulPlan *plans[5] = {nullptr, nullptr, nullptr, nullptr,
                                         nullptr};
  int64_t scratchFloats = 0;

  // Resolved pointers, filled by the executor before every run.
  std::vector<void *> in, out;
};

/// Checks `op` (op `index` of `kernel`) and prepares it. Throws ExecError
/// naming the kernel, the op and the problem.
PreparedOp prepareOp(const artifact::Artifact &artifact,
                     const artifact::Kernel &kernel, size_t index,
                     PlanCache &plans);

/// Runs a prepared op on the pointers in op.in / op.out. `scratch` holds at
/// least op.scratchFloats floats. Throws ExecError (an id out of range, or a
/// kernel's own error) naming the op and `layer`.
void runOp(PreparedOp &op, float *scratch, int64_t layer);

std::string formatShape(const std::vector<int64_t> &shape);

} // namespace giga::exec::detail

#endif // GIGA_RUNTIME_EXEC_OPDISPATCH_H
