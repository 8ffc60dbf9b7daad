//===- Trace.h - --trace-step: one step's tensors ---------------*- C++ -*-===//
//
// DIR/trace-step-K.safetensors holds step K's windows (tokens, targets),
// the first micro-batch's logits, the step loss and every parameter's
// accumulated gradient × 1/A before clipping (docs/gigarun.md). Tracing
// changes no weight and no later result.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_TRACE_H
#define GIGA_RUNTIME_TRAIN_TRACE_H

#include "runtime/artifact/Artifact.h"
#include "runtime/train/Metrics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace giga::exec {
class Executor;
} // namespace giga::exec
namespace giga::store {
class WeightStore;
} // namespace giga::store

namespace giga::train {

class StepTrace {
public:
  /// `logitsBuffer`: eval_step's logits output, -1 if it has none.
  StepTrace(const artifact::Artifact &artifact, int32_t logitsBuffer)
      : artifact(artifact), logitsBuffer(logitsBuffer) {}

  /// Keeps micro-batch `m`'s windows. Before the first is trained, runs
  /// eval_step on it and keeps the logits (in a full pass the backward may
  /// reuse their bytes); it changes no weights.
  void addMicroBatch(int64_t m, const std::vector<int32_t> &tokens,
                     const std::vector<int32_t> &targets,
                     exec::Executor &executor);
  /// Writes the trace of `record`'s step with the gradients in `store`
  /// (call it before the update), and metadata naming the step, the
  /// artifact (`checksum`) and the windows.
  void write(const std::string &path, store::WeightStore &store,
             const StepRecord &record, const std::string &checksum);

private:
  const artifact::Artifact &artifact;
  int32_t logitsBuffer;
  std::vector<int32_t> tokens, targets;
  std::vector<float> logits;
  std::vector<int64_t> logitsShape;
};

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_TRACE_H
