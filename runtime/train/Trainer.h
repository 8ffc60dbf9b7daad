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
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_TRAINER_H
#define GIGA_RUNTIME_TRAIN_TRAINER_H

#include "runtime/support/Error.h"
#include "runtime/artifact/Artifact.h"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
  /// (measured once the executor is built); without it the RAM store and
  /// the rest must fit, else TrainError.
  int64_t memoryBudget = 0;
  bool resume = false;
  std::string initPath; // weights only, no optimizer state
  int64_t traceStep = -1;
  bool quiet = false;
  /// Draw a progress bar with ETA (gigarun: when stdout is a terminal).
  bool progressBar = false;
};

/// What one optimizer step produced; one line of metrics.jsonl.
struct StepRecord {
  int64_t step = 0;
  double loss = 0.0;
  double learningRate = 0.0;
  double gradNorm = 0.0;
  double tokensPerSec = 0.0;
  double samplesPerSec = 0.0;
  double mfu = 0.0; // fraction of peak, 0..1
  std::vector<uint64_t> batchOffsets;
  std::optional<double> valLoss;

  nlohmann::json toJson() const;
};

struct TrainResult {
  int64_t firstStep = 1; // the first step this run executed
  int64_t lastStep = 0;
  std::vector<StepRecord> steps;
  std::string outDir;
  std::string lastCheckpoint; // empty if none was written
  /// The process's peak resident memory (VmHWM) at the end, 0 if unknown.
  int64_t peakRssBytes = 0;
};

/// Trains `artifact` with `options`, writing log lines to `log` (stdout in
/// gigarun). Throws TrainError (and the runtime's ArtifactError,
/// BatchError, StoreError, ExecError, FileError) for user errors; no output
/// file is left half-written.
TrainResult runTraining(const artifact::Artifact &artifact,
                        const TrainOptions &options, std::ostream &log);

//===----------------------------------------------------------------------===//
// Pieces of the trainer, exposed for gigarun and the tests.
//===----------------------------------------------------------------------===//

/// "512M", "2G", "1.5g", "64KiB", "1000000" (bytes; K/M/G/T are powers of
/// 1024) into bytes. Throws TrainError naming `flag` for anything else.
int64_t parseByteSize(const std::string &text,
                      const std::string &flag = "--memory-budget");

/// This process's resident memory from /proc/self/status: VmRSS now and
/// VmHWM, its peak so far (both 0 where /proc is unavailable).
struct ProcessMemory {
  int64_t rssBytes = 0;
  int64_t peakBytes = 0;
};
ProcessMemory readProcessMemory();

/// What --memory-budget leaves to a disk store once the rest of the process
/// holds `baselineBytes`: budget − baseline − a reserve for the heap and
/// the kernel's fault-around (docs/gigarun.md). Throws TrainError with the
/// numbers if that is not enough for the store to keep `largestTensorBytes`
/// resident plus its streaming chunks.
int64_t storeBudgetFor(int64_t budgetBytes, int64_t baselineBytes,
                       int64_t largestTensorBytes);

/// A hex FNV-1a 64 hash of the artifact's program (its JSON payload without
/// the informational report): checkpoints record it, and resuming from a
/// checkpoint of another artifact is refused.
std::string artifactChecksum(const artifact::Artifact &artifact);

/// The assumed peak fp32 FLOP/s of this CPU for `threads` cores: clock ×
/// FLOP/cycle of the ISA oneDNN runs on (kernels::cpuPeak: 32 for AVX2+FMA,
/// 64 for AVX-512). The clock comes from cpufreq's cpuinfo_max_freq, else
/// /proc/cpuinfo "cpu MHz".
struct PeakFlops {
  double flopsPerSec = 0.0;
  std::string assumption; // one line for the log
};
PeakFlops cpuPeakFlops(int threads);

/// Checkpoint files in `dir` ("checkpoint-<step>.safetensors"), by step.
std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir);

/// A tensor for writeSafetensors: `data` holds `bytes` of dtype "F32" or
/// "I32" in `shape`.
struct NamedTensor {
  std::string name;
  std::string dtype; // "F32" or "I32"
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

/// Writes a safetensors file (u64 header length, JSON header with
/// __metadata__, raw little-endian data) to a temporary name, fsyncs and
/// renames it. Throws FileError.
void writeSafetensors(const std::string &path,
                      const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata);

/// The JSON header of a safetensors file (tensors and "__metadata__").
/// Throws TrainError naming the file if it is missing or not safetensors.
nlohmann::json readSafetensorsHeader(const std::string &path);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_TRAINER_H
