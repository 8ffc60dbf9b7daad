//===- TrainOptions.cpp - what gigarun is asked to do, and its policy -----===//
#include "runtime/train/TrainOptions.h"

#include <filesystem>

namespace giga::train {

using nlohmann::json;

namespace {

/// An integer from the config's "run" section, or `fallback`.
int64_t runSetting(const artifact::Artifact &artifact, const char *key,
                   int64_t fallback) {
  const json &config = artifact.config;
  if (config.is_object() && config.contains("run") &&
      config["run"].is_object() && config["run"].contains(key) &&
      config["run"][key].is_number_integer())
    return config["run"][key].get<int64_t>();
  return fallback;
}

uint64_t configSeed(const artifact::Artifact &artifact) {
  const json &config = artifact.config;
  if (config.contains("run") && config["run"].is_object() &&
      config["run"].contains("seed") && config["run"]["seed"].is_number())
    return config["run"]["seed"].get<uint64_t>();
  return 0;
}

/// Throws TrainError unless `step` (of `flag`, -1: not given) is trained.
void checkTrainedStep(const char *flag, int64_t step, int64_t firstStep,
                      int64_t lastStep) {
  if (step >= 0 && (step < firstStep || step > lastStep))
    throw TrainError(std::string(flag) + " " + std::to_string(step) +
                     " is not among the steps this run trains (" +
                     std::to_string(firstStep) + ".." +
                     std::to_string(lastStep) + "); pick one of those");
}

} // namespace

Settings resolveSettings(const artifact::Artifact &artifact,
                         const TrainOptions &options) {
  Settings s;
  s.lastStep =
      options.steps ? *options.steps : runSetting(artifact, "num_steps", 0);
  s.evalInterval = options.evalInterval
                       ? *options.evalInterval
                       : runSetting(artifact, "eval_interval", 0);
  s.evalSteps = options.evalSteps ? *options.evalSteps
                                  : runSetting(artifact, "eval_steps", 0);
  s.checkpointSteps = options.checkpointSteps
                          ? *options.checkpointSteps
                          : runSetting(artifact, "checkpoint_steps", 0);
  s.seed = options.seed ? *options.seed : configSeed(artifact);
  if (s.lastStep < 1)
    throw TrainError(options.steps
                         ? "--steps " + std::to_string(*options.steps) +
                               ": must be at least 1"
                         : options.artifactPath +
                               " sets no run.num_steps; pass --steps N");
  if (s.evalInterval < 0 || s.evalSteps < 0 || s.checkpointSteps < 0)
    throw TrainError("--eval-interval, --eval-steps and --checkpoint-steps "
                     "must be >= 0 (0 turns them off)");
  s.outDir = options.outDir;
  if (s.outDir.empty())
    s.outDir =
        "runs/" + std::filesystem::path(options.artifactPath).stem().string();
  if (options.resume && !options.initPath.empty())
    throw TrainError("--resume and --init exclude each other: --resume "
                     "continues the run in --out, --init starts a new one "
                     "from given weights");
  return s;
}

void checkStepOptions(const TrainOptions &options, int64_t firstStep,
                      int64_t lastStep) {
  checkTrainedStep("--trace-step", options.traceStep, firstStep, lastStep);
  checkTrainedStep("--debug-exit-after-step", options.stopAfterStep, firstStep,
                   lastStep);
}

} // namespace giga::train
