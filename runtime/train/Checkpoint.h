//===- Checkpoint.h - checkpoints: names, metadata, checks ------*- C++ -*-===//
//
// A run's checkpoints are DIR/checkpoint-<step>.safetensors, written by the
// weight store (WeightStore::save) with gigarun's metadata: the step, the
// config, the artifact's checksum, the sampler's state, the data path and
// the seed. This unit names and lists them, writes that metadata, and checks
// a checkpoint for --resume or a weights file for --init, once, before the
// run writes anything (docs/gigarun.md, "Resume").
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_CHECKPOINT_H
#define GIGA_RUNTIME_TRAIN_CHECKPOINT_H

#include "runtime/artifact/Artifact.h"
#include "runtime/store/Safetensors.h"
#include "runtime/store/WeightStore.h"
#include "runtime/train/TrainOptions.h"

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace giga::train {

/// A hex FNV-1a 64 hash of the artifact's program (its JSON payload without
/// the informational report): checkpoints record it, and resuming from a
/// checkpoint of another artifact is refused.
std::string artifactChecksum(const artifact::Artifact &artifact);

/// DIR/checkpoint-<step>.safetensors.
std::string checkpointPath(const std::string &dir, int64_t step);

/// Checkpoint files in `dir` ("checkpoint-<step>.safetensors"), by step.
std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir);

/// What gigarun stores in a checkpoint's metadata.
struct RunState {
  int64_t step = 0;
  std::string samplerState; // BatchSampler::state()
  std::string dataPath;
  uint64_t seed = 0;
  /// The matmuls' ("fp32", "bf16"); empty in checkpoints older than it.
  std::string precision;
};
nlohmann::json checkpointMetadata(const artifact::Artifact &artifact,
                                  const std::string &checksum,
                                  const RunState &state);

/// The checkpoint a resumed run continues from.
struct ResumePoint {
  store::SafetensorsFile file; // checked, and kept open for the load
  RunState state;
};

/// --resume: the newest checkpoint in `outDir`, checked: it has gigarun's
/// metadata, was trained with this artifact (`checksum`; another model and
/// another artifact of the same model are told apart), holds every weight
/// and the optimizer state (store::checkCheckpoint), and has the seed of
/// --seed if given. Warns on stderr if it was trained on another --data or
/// in another --precision.
/// Throws TrainError.
ResumePoint findResumePoint(const artifact::Artifact &artifact,
                            const TrainOptions &options,
                            const std::string &outDir,
                            const std::string &checksum);

/// --resume from a persistent store (`where` names it in messages): the run
/// state its last update committed (`meta`, a checkpoint's metadata),
/// checked as findResumePoint checks a checkpoint's.
RunState storeResumeState(const artifact::Artifact &artifact,
                          const TrainOptions &options, const std::string &where,
                          const nlohmann::json &meta,
                          const std::string &checksum);

/// The checks of a resumed run's state against the options: --seed must
/// match, another --data or --precision is warned about on stderr.
void checkResumedRun(const TrainOptions &options, const std::string &path,
                     const RunState &state);

/// --init: the giga checkpoint `path` opened and checked to hold every
/// weight of `artifact` (store::checkCheckpoint; its optimizer state, if
/// any, is not used). Throws TrainError naming `flag` (gigarun eval's is
/// --checkpoint).
std::unique_ptr<store::CheckpointWeights>
openInitWeights(const artifact::Artifact &artifact, const std::string &path,
                const std::string &flag = "--init");

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_CHECKPOINT_H
