//===- RunDir.h - the --out directory of a run ------------------*- C++ -*-===//
//
// A run writes into its --out directory: metrics.jsonl, checkpoints
// (Checkpoint.h) and traces. A fresh run refuses a directory that holds
// another run; the directory is created only once every input has been
// checked, so a bad input leaves nothing behind; a resumed run drops the
// metrics lines of steps after its checkpoint. docs/gigarun.md.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_RUNDIR_H
#define GIGA_RUNTIME_TRAIN_RUNDIR_H

#include <cstdint>
#include <string>

namespace giga::train {

/// DIR/metrics.jsonl.
std::string metricsPath(const std::string &dir);
/// DIR/trace-step-<step>.safetensors.
std::string tracePath(const std::string &dir, int64_t step);

/// A fresh run does not overwrite another run's files: throws TrainError if
/// `dir` holds a checkpoint or a non-empty metrics.jsonl.
void refuseExistingRun(const std::string &dir);

/// Creates `dir` (and its parents); throws TrainError if it cannot be
/// created or is not writable.
void createRunDir(const std::string &dir);

/// Holds DIR/run.lock (flock) while it lives, so that two gigaruns never
/// train into one --out, as the weight store's lock keeps two out of one
/// --store. The kernel drops the lock when the process dies, however it dies.
class RunDirLock {
public:
  /// Throws TrainError if another process holds it, or it cannot be made.
  explicit RunDirLock(const std::string &dir);
  ~RunDirLock();
  RunDirLock(const RunDirLock &) = delete;
  RunDirLock &operator=(const RunDirLock &) = delete;

private:
  int fd = -1;
};

/// metrics.jsonl of a resumed run: lines for steps after the checkpoint (a
/// killed run's) and torn lines are dropped, so no step appears twice.
/// Rewritten atomically; nothing to do if the file does not exist. Returns
/// the step of the last record kept (0 for none).
int64_t truncateMetrics(const std::string &path, int64_t checkpointStep);

/// DIR/store.path: where a run that keeps its state in a persistent store
/// (--store) has it, so that --resume finds the run's state there, and the
/// run's seed, which the sampler needs before the store is open.
std::string storePathFile(const std::string &dir);
struct RecordedStore {
  std::string directory; // empty: the run keeps no store
  uint64_t seed = 0;
};
RecordedStore recordedStore(const std::string &dir);
void recordStore(const std::string &dir, const std::string &storeDirectory,
                 uint64_t seed);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_RUNDIR_H
