//===- TrainOptions.h - gigarun's options and their policy ------*- C++ -*-===//
//
// The options of a training run (gigarun's flags), their defaults from the
// artifact's config ("run" section) and the checks that need no file:
// ranges, and options that exclude each other. docs/gigarun.md.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_TRAINOPTIONS_H
#define GIGA_RUNTIME_TRAIN_TRAINOPTIONS_H

#include "runtime/artifact/Artifact.h"
#include "runtime/comm/Communicator.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace giga::store {
class WeightSource;
} // namespace giga::store

namespace giga::train {

/// A problem with the user's inputs or options (a bad flag value, a
/// checkpoint from another model, a NaN loss, an unwritable directory).
/// One line that names the file or flag and says how to fix it; gigarun
/// exits with status 1.
class TrainError : public Error {
public:
  using Error::Error;
};

struct TrainOptions {
  std::string artifactPath; // for messages and the default out dir
  std::string dataPath;
  std::string valPath; // empty: no evaluation
  /// Unset: the config's run.* value. `steps` is the last step to run (a
  /// resumed run continues up to it).
  std::optional<int64_t> steps, evalInterval, evalSteps, checkpointSteps;
  std::optional<uint64_t> seed;
  std::string outDir; // empty: runs/<artifact stem>
  std::string storeDir;
  /// Bytes of resident memory (RSS) for the whole process, 0: none. With
  /// storeDir the store gets what is left after the rest of the process
  /// (the process before it, arena included); without it the RAM store and
  /// the rest must fit, else TrainError.
  int64_t memoryBudget = 0;
  bool resume = false;
  std::string initPath; // weights only, no optimizer state
  /// initPath already opened and checked against the artifact, in any
  /// layout (gigarun --init-format); null: initPath is a giga checkpoint.
  std::shared_ptr<const store::WeightSource> init;
  int64_t traceStep = -1;
  /// A debug option for testing resume (gigarun --debug-exit-after-step):
  /// the run ends right after this step as if it had been killed there,
  /// with the metrics and checkpoints of the steps it finished but without
  /// the final checkpoint or the closing log lines. -1: off.
  int64_t stopAfterStep = -1;
  bool quiet = false;
  /// After the run, print where a step's time went, op by op (gigarun
  /// --profile), over every step but the run's first.
  bool profile = false;
  /// Of every matmul; gigarun resolves --precision auto before training and
  /// says why in precisionNote, which the log prints.
  kernels::MatmulPrecision precision = kernels::MatmulPrecision::F32;
  std::string precisionNote;
  /// Draw a progress bar with ETA (gigarun: when stdout is a terminal).
  bool progressBar = false;
  /// The systems of a data-parallel run, as many as the artifact's
  /// run.num_systems (null: one). Rank 0 alone logs and writes the out dir;
  /// each system's --store is a rank-N directory inside storeDir.
  comm::Communicator *systems = nullptr;
};

/// The options with the config's defaults filled in.
struct Settings {
  int64_t lastStep = 0;
  int64_t evalInterval = 0, evalSteps = 0, checkpointSteps = 0;
  uint64_t seed = 0;
  std::string outDir;
};

/// Fills in run.num_steps, run.eval_interval, run.eval_steps,
/// run.checkpoint_steps, run.seed and the default out dir. Throws TrainError
/// for no step to run, a negative interval, or --resume with --init.
Settings resolveSettings(const artifact::Artifact &artifact,
                         const TrainOptions &options);

/// --trace-step and --debug-exit-after-step must name a step this run
/// trains (firstStep..lastStep); throws TrainError otherwise.
void checkStepOptions(const TrainOptions &options, int64_t firstStep,
                      int64_t lastStep);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_TRAINOPTIONS_H
