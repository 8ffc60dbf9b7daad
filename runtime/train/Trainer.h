//===- Trainer.h - the training loop behind gigarun -------------*- C++ -*-===//
//
// Runs a compiled training step (step.wafer) for a number of optimizer
// steps: draws random windows from a token file, runs the artifact's
// kernels once per micro-batch on the executor, lets the weight store apply
// the update, and logs, evaluates, checkpoints and resumes. Everything is
// deterministic (single-threaded kernels, a seeded sampler), so a run
// resumed from a checkpoint continues bit for bit like an uninterrupted one.
// docs/gigarun.md describes the files it writes.
//
// The pieces, one job each: TrainOptions.h (the options and their policy),
// Checkpoint.h (checkpoints: names, metadata, the --resume and --init
// checks), RunDir.h (the --out directory), MemoryBudget.h
// (--memory-budget), Evaluation.h (--val), Metrics.h (StepRecord,
// metrics.jsonl, MFU), Log.h (what is printed), Trace.h (--trace-step).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_TRAINER_H
#define GIGA_RUNTIME_TRAIN_TRAINER_H

#include "runtime/artifact/Artifact.h"
#include "runtime/train/Metrics.h"
#include "runtime/train/TrainOptions.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace giga::train {

struct TrainResult {
  int64_t firstStep = 1; // the first step this run executed
  int64_t lastStep = 0;
  std::vector<StepRecord> steps;
  std::string outDir;
  std::string lastCheckpoint; // empty if none was written
  /// The process's peak resident memory (VmHWM) at the end, 0 if unknown.
  int64_t peakRssBytes = 0;
  /// TrainOptions::stopAfterStep ended the run before its last step.
  bool stopped = false;
  /// The signal (SIGINT, SIGTERM, SIGHUP) that ended the run before its last
  /// step, after a checkpoint of the step it finished; 0 if none did.
  int interruptedBy = 0;
};

/// Trains `artifact` with `options`, writing log lines to `log` (stdout in
/// gigarun). Throws TrainError (and the runtime's ArtifactError,
/// BatchError, StoreError, ExecError, FileError) for user errors; no output
/// file is left half-written, and nothing at all before every input has
/// been checked.
TrainResult runTraining(const artifact::Artifact &artifact,
                        const TrainOptions &options, std::ostream &log);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_TRAINER_H
