//===- BufferPlan.h - activation arena offsets for a wafer program -*- C++
//-*-===//
//
// Every tensor of the program gets bytes in one arena: values that cross
// kernels (the program's) by their live range over the invocations, values
// inside a kernel in a scratch region that all kernels share, since they
// run one after another, and one layer's weights streaming in and
// gradients streaming out in a region after both. Stacked values hold one
// tensor per layer; a reshape shares its input's bytes.
//
// wafer-plan-buffers plans once and records the plan in the IR
// (recordBufferPlan); wafer-place and the artifact writer read it back
// (readBufferPlan). wafer-microbatch plans trial compiles of its own.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_COMPILER_BUFFERPLAN_H
#define GIGA_COMPILER_BUFFERPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace giga {

struct PlannedBuffer {
  std::string name;
  mlir::RankedTensorType type; // one layer's tensor for a stacked buffer
  int64_t layers = 0;          // >0: stacked
  int64_t offset = -1;
  int aliasOf = -1; // shares the bytes of this buffer (a reshape)
  bool program = false;
  /// A KV cache: kept across the programs' runs, so never shared.
  bool state = false;
  int start = 0, end = 0; // live range: program invocations or kernel ops
  int64_t bytes() const;  // all layers
};

/// A value as a kernel sees it: a buffer, or this layer's slice of one.
struct BufferRef {
  int buffer = -1;
  bool perLayer = false;
};

struct KernelPlan {
  /// Copies after the ops: a returned value that could not be computed in
  /// place (a kernel input, a weight, a reshape view).
  std::vector<std::pair<BufferRef, BufferRef>> copies; // from, to
  /// After each layer: buffer .second is copied into .first.
  std::vector<std::pair<int, int>> carry;
  int64_t scratchBytes = 0;
  int64_t opScratchBytes = 0; // the largest op's (runtime/artifact/OpScratch)
  int64_t streamBytes = 0;    // one layer's weights in and gradients out
};

struct BufferPlan {
  std::vector<PlannedBuffer> buffers;
  llvm::DenseMap<mlir::Value, BufferRef> refs;
  llvm::DenseMap<mlir::Operation *, KernelPlan> kernels; // by kernel func
  int64_t programBytes = 0; // state, and values that cross kernels
  int64_t scratchBytes = 0; // values inside a kernel
  /// Temporaries of the runtime's ops (a layernorm's mean and rstd,
  /// attention's probabilities), shared by all ops: the largest need.
  int64_t opScratchOffset = 0, opScratchBytes = 0;
  int64_t streamBytes = 0; // staging for weights in and gradients out
  int64_t arenaBytes = 0;  // all four

  /// What must stay on the wafer: weights and gradients only stream
  /// through.
  int64_t activationBytes() const {
    return programBytes + scratchBytes + opScratchBytes;
  }
};

/// Plans the programs (the functions marked wafer.program: a training step,
/// or generation's entry points) and their kernels; reports what it cannot
/// plan on the op at fault. State buffers come first in the arena; each
/// program's values after them, in bytes the other programs reuse, since
/// one program runs at a time.
mlir::FailureOr<BufferPlan> planBuffers(mlir::ModuleOp module);

/// Writes `plan` into `module` as attributes: the buffer table
/// (`wafer.buffer_table`) and the arena's regions on the program, each
/// value's buffer by name (`wafer.buffers` on ops, `wafer.arg_buffers` on
/// functions; `name[layer]` where a kernel sees one layer of a stack), and
/// each kernel's scratch, copies and carries.
void recordBufferPlan(mlir::ModuleOp module, const BufferPlan &plan);

/// The plan recordBufferPlan wrote; an error naming the missing attribute
/// (and that wafer-plan-buffers must run first) if there is none.
mlir::FailureOr<BufferPlan> readBufferPlan(mlir::ModuleOp module);

} // namespace giga

#endif // GIGA_COMPILER_BUFFERPLAN_H
