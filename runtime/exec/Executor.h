//===- Executor.h - runs an artifact's kernels: the wafer -------*- C++ -*-===//
#ifndef GIGA_RUNTIME_EXEC_EXECUTOR_H
#define GIGA_RUNTIME_EXEC_EXECUTOR_H

#include "runtime/artifact/Artifact.h"
#include "runtime/exec/ExecError.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/store/WeightStore.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace giga::exec {

class Executor {
public:
  /// Checks every op against the kernel library (name, operand count and
  /// shapes, attributes), allocates the arena and prepares every matmul
  /// plan once, every matmul (attention's and the fused loss's too) in
  /// `precision`. Throws ExecError.
  Executor(const artifact::Artifact &artifact, store::WeightStore &store,
           kernels::MatmulPrecision precision = kernels::MatmulPrecision::F32);
  ~Executor();

  /// Input name -> its bytes (exactly its buffer's size and dtype).
  using Inputs = std::map<std::string, const void *>;

  /// Runs an entry point of the artifact (docs/artifact.md): writes every
  /// input into its buffer (checking a ranged input's values), then runs the
  /// commands in order: each invoked kernel once per layer (reverse order
  /// when the kernel says so) with that layer's weights from the store, the
  /// next layer's prefetched on a streamer thread meanwhile, gradients
  /// added to the store as they are made. Throws ExecError for an unknown
  /// entry point or input, a missing input or a value out of range.
  void run(const std::string &entry, const Inputs &inputs);

  /// An output of an entry point (its buffer), valid until the next run.
  const void *output(const std::string &entry, const std::string &name) const;

  /// A buffer's current contents (for tests and traces), `layer` for a
  /// stacked buffer.
  const void *buffer(int32_t index, int64_t layer = 0) const;

  /// Wall time of one op of one kernel over every run since profiling was
  /// turned on; `op` is the kernel library's name ("matmul"). Two rows stand
  /// for the store: op "stream-out" (adding gradients to it) and op
  /// "wait for weights" (the streamer not done prefetching), kernel "store".
  struct OpTime {
    std::string kernel, op;
    int64_t calls = 0;
    double seconds = 0;
  };
  /// Turns timing on or off; times add up over every period it is on. Off
  /// costs nothing; on, a clock read before and after each op.
  void setProfiling(bool on);
  std::vector<OpTime> profile() const;

  /// A profile as a table, per `unit` ("step", "token") over `units` of
  /// them in `wallSeconds`: every op summed over kernels, `extra` rows
  /// (time spent outside the executor) and what is left unaccounted as
  /// `otherName`; then the 15 slowest kernel/op pairs.
  static std::string profileTable(const std::vector<OpTime> &profile,
                                  double wallSeconds, double units,
                                  const std::string &unit,
                                  const std::vector<OpTime> &extra,
                                  const std::string &otherName);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace giga::exec

#endif // GIGA_RUNTIME_EXEC_EXECUTOR_H
