//===- Evaluation.h - the validation loss -----------------------*- C++ -*-===//
//
// --val: the mean loss over --eval-steps batches of validation windows. Each
// evaluation restarts the validation sampler from the same state, so every
// evaluation sees the same windows and they compare across steps (and
// across a resume).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_EVALUATION_H
#define GIGA_RUNTIME_TRAIN_EVALUATION_H

#include "runtime/artifact/Artifact.h"
#include "runtime/train/Batches.h"

#include <cstdint>
#include <string>

namespace giga::exec {
class Executor;
} // namespace giga::exec

namespace giga::train {

class Evaluation {
public:
  /// Maps and checks the validation file (BatchError if it is bad).
  /// `batches` per evaluation (0: never evaluates), every `interval` steps
  /// (0: only after the last).
  /// `vocab` bounds the tokens (the artifact's training contract).
  Evaluation(const artifact::Artifact &artifact, int64_t vocab,
             const std::string &path, uint64_t seed, int64_t batches,
             int64_t interval);

  const BatchSampler &sampler() const { return windows; }
  /// Whether `step` evaluates: every `interval` steps and after the last.
  bool due(int64_t step, int64_t lastStep) const;
  /// The mean loss of eval_step over `batches` batches, each of the
  /// artifact's micro-batches.
  double run(exec::Executor &executor);

private:
  const artifact::Artifact &artifact;
  BatchSampler windows;
  std::string start; // the sampler's state before the first window
  int64_t batches, interval;
};

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_EVALUATION_H
