//===- Executor.h - runs an artifact's kernels: the wafer -------*- C++ -*-===//
#ifndef GIGA_RUNTIME_EXEC_EXECUTOR_H
#define GIGA_RUNTIME_EXEC_EXECUTOR_H

#include "runtime/artifact/Artifact.h"
#include "runtime/exec/ExecError.h"
#include "runtime/store/WeightStore.h"

#include <memory>
#include <string>

namespace giga::exec {

class Executor {
public:
  /// Checks every op against the kernel library (name, operand count and
  /// shapes, attributes), allocates the arena and prepares every matmul
  /// plan once. Throws ExecError.
  Executor(const artifact::Artifact &artifact, store::WeightStore &store);
  ~Executor();

  /// One forward and backward pass over one micro-batch: `tokens` and
  /// `targets` are [micro_batch, T] int32. Runs the kernels in order, each
  /// grouped kernel once per layer (reverse order when the kernel says so)
  /// with that layer's weights from the store, the next layer's weights
  /// prefetched on a streamer thread meanwhile; gradients are added to the
  /// store. Returns the micro-batch's mean loss.
  float runMicroBatch(const int32_t *tokens, const int32_t *targets);

  /// Forward only up to the loss (for evaluation): runs only the kernels
  /// that are not `backward` and returns the loss.
  float evaluate(const int32_t *tokens, const int32_t *targets);

  /// A buffer's current contents (for tests and traces), `layer` for a
  /// stacked buffer.
  const void *buffer(int32_t index, int64_t layer = 0) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace giga::exec

#endif // GIGA_RUNTIME_EXEC_EXECUTOR_H
