//===- Checkpoint.cpp - a run's checkpoints: names, metadata, checks ------===//
#include "runtime/train/Checkpoint.h"

#include "runtime/kernels/Matmul.h"
#include "runtime/store/WeightStore.h"
#include "runtime/support/Hash.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>

namespace giga::train {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// Runs `body`; a StoreError (a file that is not safetensors, or not a
/// checkpoint of this model) becomes a TrainError that names `flag`.
template <typename Body> auto namingFlag(const std::string &flag, Body body) {
  try {
    return body();
  } catch (const store::StoreError &error) {
    throw TrainError(flag + ": " + error.what());
  }
}

/// The number of systems a config's artifact runs on, and the config
/// without it.
std::pair<int64_t, json> splitSystems(json config) {
  int64_t systems = 1;
  if (config.is_object() && config.contains("run") &&
      config["run"].is_object()) {
    json &run = config["run"];
    // A value that is not a number stays in the config, which then matches
    // no artifact's.
    if (!run.contains("num_systems") ||
        run["num_systems"].is_number_integer()) {
      systems = run.value("num_systems", int64_t(1));
      run.erase("num_systems");
    }
  }
  return {systems, config};
}

/// A checkpoint of another artifact that is the same training on another
/// number of systems (run.num_systems alone differs): it resumes, the same
/// run up to the order in which gradients are summed.
bool sameRunOnOtherSystems(const json &meta,
                           const artifact::Artifact &artifact) {
  if (!meta.contains("config"))
    return false;
  auto [savedSystems, saved] = splitSystems(meta["config"]);
  auto [systems, config] = splitSystems(artifact.config);
  return savedSystems != systems && saved == config;
}

/// The run state in a checkpoint's metadata, after checking it has one and
/// that it was trained with this artifact (or the same run on another
/// number of systems).
RunState resumeState(const artifact::Artifact &artifact,
                     const TrainOptions &options, const std::string &path,
                     const json &meta, const std::string &checksum) {
  if (!meta.is_object() || !meta.contains("step") ||
      !meta["step"].is_number_integer() || !meta.contains("sampler_state") ||
      !meta["sampler_state"].is_string())
    throw TrainError(path +
                     ": has no gigarun metadata (step, sampler "
                     "state), so it cannot be resumed; start a "
                     "new run with --init " +
                     path);
  if (meta.value("artifact_checksum", "") != checksum &&
      !sameRunOnOtherSystems(meta, artifact)) {
    bool sameModel = meta.contains("config") && meta["config"].is_object() &&
                     meta["config"].value("model", json()) ==
                         artifact.config.value("model", json());
    throw TrainError(
        "--resume " + path + ": the checkpoint was trained with " +
        (sameModel ? std::string("another artifact of the same model "
                                 "(recompiled with other settings)")
                   : std::string("another model")) +
        " than " + options.artifactPath +
        "; resume with the artifact it was trained with, or pass another "
        "--out to start a new run");
  }
  RunState state;
  state.step = meta["step"].get<int64_t>();
  if (state.step < 1)
    throw TrainError(path + ": its metadata says step " +
                     std::to_string(state.step) +
                     ", but checkpoints are written after step 1 or later "
                     "(a damaged file?); remove it to resume from the "
                     "checkpoint before it, or start a new run");
  state.samplerState = meta["sampler_state"].get<std::string>();
  state.dataPath = meta.value("data", "");
  state.seed = meta.value("seed", uint64_t(0));
  state.precision = meta.value("precision", "");
  return state;
}

} // namespace

std::string artifactChecksum(const artifact::Artifact &artifact) {
  json program = artifact::toJson(artifact);
  program.erase("report");
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                (unsigned long long)fnv1a64(program.dump()));
  return text;
}

std::string checkpointPath(const std::string &dir, int64_t step) {
  return (fs::path(dir) /
          ("checkpoint-" + std::to_string(step) + ".safetensors"))
      .string();
}

std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code error;
  if (!fs::is_directory(dir, error))
    return found;
  static const std::regex name("checkpoint-([0-9]{1,18})\\.safetensors");
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, error)) {
    std::smatch match;
    std::string file = entry.path().filename().string();
    if (std::regex_match(file, match, name) && entry.is_regular_file(error))
      found.push_back({std::stoll(match[1].str()), entry.path().string()});
  }
  std::sort(found.begin(), found.end());
  return found;
}

json checkpointMetadata(const artifact::Artifact &artifact,
                        const std::string &checksum, const RunState &state) {
  return {{"step", state.step},
          {"config", artifact.config},
          {"artifact_checksum", checksum},
          {"sampler_state", state.samplerState},
          {"data", state.dataPath},
          {"seed", state.seed},
          {"precision", state.precision}};
}

ResumePoint findResumePoint(const artifact::Artifact &artifact,
                            const TrainOptions &options,
                            const std::string &outDir,
                            const std::string &checksum) {
  auto checkpoints = listCheckpoints(outDir);
  if (checkpoints.empty())
    throw TrainError("--resume: no checkpoint-<step>.safetensors in " + outDir +
                     "; pass the --out of the run to continue, or drop "
                     "--resume to start a new run");
  const std::string path = checkpoints.back().second;
  // A newest checkpoint that cannot be read (cut short by a full disk, say)
  // is fixed by removing it, which the reader's own hint does not say.
  store::SafetensorsFile file = [&] {
    try {
      return store::SafetensorsFile(path);
    } catch (const store::StoreError &error) {
      std::string message = error.what();
      message = message.substr(0, message.rfind("; "));
      throw TrainError(
          "--resume: " + message + "; remove it (rm " + path + ")" +
          (checkpoints.size() > 1
               ? " to resume from " +
                     checkpoints[checkpoints.size() - 2].second +
                     ", the one before"
               : " and start again without --resume: it is the only "
                 "checkpoint"));
    }
  }();
  json meta =
      namingFlag("--resume", [&] { return store::checkpointMetadata(file); });
  RunState state = resumeState(artifact, options, path, meta, checksum);
  namingFlag("--resume", [&] {
    store::checkCheckpoint(artifact, file, /*withOptimizer=*/true);
  });
  checkResumedRun(options, path, state);
  return {std::move(file), std::move(state)};
}

RunState storeResumeState(const artifact::Artifact &artifact,
                          const TrainOptions &options, const std::string &where,
                          const json &meta, const std::string &checksum) {
  RunState state = resumeState(artifact, options, where, meta, checksum);
  checkResumedRun(options, where, state);
  return state;
}

void checkResumedRun(const TrainOptions &options, const std::string &path,
                     const RunState &state) {
  if (options.seed && *options.seed != state.seed)
    throw TrainError("--seed " + std::to_string(*options.seed) + ": " + path +
                     " was trained with seed " + std::to_string(state.seed) +
                     "; drop --seed when resuming");
  std::error_code error;
  if (!state.dataPath.empty() &&
      fs::weakly_canonical(state.dataPath, error) !=
          fs::weakly_canonical(options.dataPath, error))
    std::cerr << "gigarun: warning: " << path << " was trained on "
              << state.dataPath << ", now --data is " << options.dataPath
              << "; the batches will not match an uninterrupted run\n";
  const char *precision = kernels::precisionName(options.precision);
  if (!state.precision.empty() && state.precision != precision)
    std::cerr << "gigarun: warning: " << path << " was trained with "
              << state.precision << " matmuls, this run uses " << precision
              << "; it continues, but not as the uninterrupted run would (pass "
                 "--precision "
              << state.precision << " for that)\n";
}

std::unique_ptr<store::CheckpointWeights>
openInitWeights(const artifact::Artifact &artifact, const std::string &path,
                const std::string &flag) {
  return namingFlag(flag, [&] {
    return std::make_unique<store::CheckpointWeights>(
        artifact, store::SafetensorsFile(path));
  });
}

} // namespace giga::train
