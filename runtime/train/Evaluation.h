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
#include "runtime/comm/Communicator.h"
#include "runtime/train/Batches.h"

#include <cstdint>
#include <functional>
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
  /// artifact's micro-batches on every system; each system runs its share
  /// of every batch, as in training, and `systems` adds up their losses.
  double run(exec::Executor &executor, comm::Communicator &systems);

private:
  const artifact::Artifact &artifact;
  BatchSampler windows;
  std::string start; // the sampler's state before the first window
  int64_t batches, interval;
};

/// The loss of a checkpoint over a whole token file (gigarun eval).
struct FileLoss {
  double meanLoss = 0; // per predicted token, in nats
  int64_t windows = 0, predictions = 0;
  int64_t unscoredTokens = 0; // the file's tail, shorter than a window
};

/// The mean loss of eval_step over every window of `file`, not a sample:
/// window i holds tokens [iT, iT + T) and predicts tokens [iT + 1, iT + T]
/// for i < (N - 1) / T, so every token after the first is predicted once,
/// with the context since its window began; the last (N - 1) mod T are not
/// scored. The windows run a micro-batch at a time; a last micro-batch of r
/// windows is filled up with copies of window 0 and their loss, measured by
/// a micro-batch of window 0 alone, taken out again, so every window counts
/// once. `progress(done, total)` is called after each micro-batch.
FileLoss evaluateFile(const artifact::Artifact &artifact,
                      exec::Executor &executor, const BatchSampler &file,
                      const std::function<void(int64_t, int64_t)> &progress);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_EVALUATION_H
