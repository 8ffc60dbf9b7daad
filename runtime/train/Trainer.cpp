//===- Trainer.cpp - the training loop behind gigarun ---------------------===//
//
// runTraining reads top to bottom: check every input (options, the
// checkpoint to resume or the weights to start from, the data), split the
// memory budget, build the store and the executor, load the starting
// weights, create the out dir, then train step by step. Each step runs its
// micro-batches and the update (trainStep), then logs, evaluates, appends
// to metrics.jsonl and checkpoints (finishStep).
//
//===----------------------------------------------------------------------===//
#include "runtime/train/Trainer.h"

#include "runtime/artifact/TrainingEntryPoints.h"
#include "runtime/exec/Executor.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/store/WeightStore.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/train/Batches.h"
#include "runtime/train/Checkpoint.h"
#include "runtime/train/Evaluation.h"
#include "runtime/train/Interrupt.h"
#include "runtime/train/Log.h"
#include "runtime/train/MemoryBudget.h"
#include "runtime/train/MicroBatch.h"
#include "runtime/train/RunDir.h"
#include "runtime/train/Trace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <ostream>

namespace giga::train {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Where a run starts, every option and file it starts from checked;
/// nothing has been written yet.
struct Start {
  artifact::training::Contract contract; // train_step and eval_step
  Settings settings;
  std::string checksum;
  std::optional<ResumePoint> resume;
  std::shared_ptr<const store::WeightSource> init;
  bool restarted = false; // --resume of a run killed before any checkpoint
  // One system with --store: the store is its own checkpoint
  // (StoreOptions::persistent), and --resume of a run that trained so
  // continues from the store (storeResume, once the store is open).
  bool persistentStore = false;
  bool resumeFromStore = false;
  std::optional<RunState> storeResume;

  int64_t firstStep() const {
    return resume        ? resume->state.step + 1
           : storeResume ? storeResume->step + 1
                         : 1;
  }
  int64_t resumedStep() const { return firstStep() - 1; }
};

std::string canonicalText(const std::string &path) {
  std::error_code error;
  return std::filesystem::weakly_canonical(path, error).string();
}

/// A run dir (it has a metrics.jsonl) without a checkpoint: a run stopped
/// before its first checkpoint, which --resume starts again from step 1.
bool killedBeforeFirstCheckpoint(const std::string &dir) {
  std::error_code error;
  return listCheckpoints(dir).empty() &&
         std::filesystem::exists(metricsPath(dir), error);
}

/// The artifact's systems against the processes mpirun started.
void checkSystems(const artifact::Artifact &artifact,
                  const TrainOptions &options, comm::Communicator &systems) {
  if (artifact.systems == systems.size())
    return;
  const std::string command = "mpirun -np " + std::to_string(artifact.systems) +
                              " gigarun " + options.artifactPath + " ...";
  if (systems.size() == 1)
    throw TrainError(options.artifactPath + " was compiled for " +
                     std::to_string(artifact.systems) +
                     " systems (run.num_systems) and this gigarun runs "
                     "alone; start it as " +
                     command + ", or compile with --systems 1");
  throw TrainError(options.artifactPath + " was compiled for " +
                   std::to_string(artifact.systems) + " system" +
                   (artifact.systems == 1 ? "" : "s") +
                   " (run.num_systems) but mpirun started " +
                   std::to_string(systems.size()) + " processes; start it as " +
                   command + ", or compile with --systems " +
                   std::to_string(systems.size()));
}

Start checkInputs(const artifact::Artifact &artifact,
                  const TrainOptions &options, comm::Communicator &systems) {
  checkSystems(artifact, options, systems);
  if (systems.size() > 1 && options.traceStep > 0)
    throw TrainError("--trace-step records one system's gradients, and with " +
                     std::to_string(systems.size()) +
                     " systems each keeps only a shard of them; trace with "
                     "an artifact compiled for one system");
  Start start{artifact::training::contract(artifact, options.artifactPath),
              resolveSettings(artifact, options), artifactChecksum(artifact),
              std::nullopt, nullptr};
  checkRamStoreFits(artifact, options);
  start.persistentStore = systems.size() == 1 && !options.storeDir.empty();
  const RecordedStore recorded =
      options.resume ? recordedStore(start.settings.outDir) : RecordedStore();
  const std::string &storeOfRun = recorded.directory;
  if (!storeOfRun.empty() && !start.persistentStore)
    throw TrainError("--resume: the run in " + start.settings.outDir +
                     " keeps its state in the store " + storeOfRun +
                     "; resume it with --store " + storeOfRun);
  if (!storeOfRun.empty() &&
      canonicalText(storeOfRun) != canonicalText(options.storeDir))
    throw TrainError("--store " + options.storeDir + ": the run in " +
                     start.settings.outDir + " keeps its state in the store " +
                     storeOfRun + "; resume it with --store " + storeOfRun);
  if (!storeOfRun.empty()) {
    start.resumeFromStore = true; // its step is known once the store is open
    start.settings.seed = recorded.seed;
  } else if (options.resume &&
             killedBeforeFirstCheckpoint(start.settings.outDir)) {
    start.restarted = true; // nothing was saved: step 1 is the continuation
  } else if (options.resume) {
    start.resume.emplace(findResumePoint(
        artifact, options, start.settings.outDir, start.checksum));
    start.settings.seed = start.resume->state.seed;
  } else {
    refuseExistingRun(start.settings.outDir);
  }
  if (options.init)
    start.init = options.init;
  else if (!options.initPath.empty())
    start.init = openInitWeights(artifact, options.initPath);
  if (!start.resumeFromStore)
    checkStepOptions(options, start.firstStep(), start.settings.lastStep);
  return start;
}

/// A persistent store just opened: where a run resumed from it continues,
/// checked; or, for a new run, that it holds no other run's state.
void checkOpenedStore(const artifact::Artifact &artifact,
                      const TrainOptions &options, Start &start,
                      const store::WeightStore &store) {
  const std::string where = "the store in " + options.storeDir;
  if (!start.resumeFromStore) {
    if (store.committedStep() > 0)
      throw TrainError(
          "--store " + options.storeDir + " holds the state of the run in " +
          store.committed().value("out", std::string("another --out")) +
          " at step " + std::to_string(store.committedStep()) +
          "; continue that run with --resume and its --out, or remove " +
          options.storeDir + " to start afresh");
    return;
  }
  if (store.committedStep() == 0) {
    start.resumeFromStore = false;
    start.restarted = true; // killed before its first update
  } else {
    start.storeResume = storeResumeState(artifact, options, where,
                                         store.committed(), start.checksum);
  }
  checkStepOptions(options, start.firstStep(), start.settings.lastStep);
}

/// The resumed checkpoint (weights, optimizer state, sampler), or fresh
/// weights (from --init if given). A store resumed from already holds them.
void loadStartingWeights(const Start &start, store::WeightStore &store,
                         BatchSampler &sampler) {
  if (start.storeResume) {
    sampler.restore(start.storeResume->samplerState);
    return;
  }
  if (start.resume) {
    store.load(start.resume->file, /*withOptimizer=*/true);
    sampler.restore(start.resume->state.samplerState);
    return;
  }
  store.initialize(start.settings.seed);
  if (start.init)
    store.loadWeights(*start.init);
}

/// A resumed checkpoint at or past --steps: nothing is trained or written.
TrainResult nothingToTrain(const Start &start, const TrainOptions &options,
                           std::ostream &log) {
  TrainResult result;
  result.outDir = start.settings.outDir;
  result.firstStep = start.firstStep();
  result.lastStep = start.resumedStep();
  result.lastCheckpoint = start.resume ? start.resume->file.path()
                                       : "the store in " + options.storeDir;
  if (!options.quiet)
    log << "gigarun: " << result.lastCheckpoint << " is at step "
        << result.lastStep << ", not before --steps " << start.settings.lastStep
        << ": nothing to train\n";
  return result;
}

/// The steps of a run whose inputs are checked and whose store holds the
/// starting weights.
class TrainingLoop {
public:
  TrainingLoop(const artifact::Artifact &artifact, const TrainOptions &options,
               const Start &start, BatchSampler &sampler,
               Evaluation *evaluation, store::WeightStore &store,
               exec::Executor &executor, comm::Communicator &systems,
               MetricsFile *metrics, std::ostream &log);
  TrainResult run();

private:
  void logStart() const;
  /// The micro-batches and the update of `step`: its record, but for the
  /// validation loss.
  StepRecord trainStep(int64_t step);
  /// The record's update statistics and rates for a step of `seconds`.
  void fillRates(StepRecord &record, const store::UpdateStats &stats,
                 double seconds) const;
  /// Runs every micro-batch of a step; their mean loss.
  double runMicroBatches(StepRecord &record, StepTrace *trace);
  /// Logs the step, evaluates, appends to metrics.jsonl and checkpoints.
  void finishStep(StepRecord record);
  void saveCheckpoint(int64_t step);
  /// What a checkpoint at `step` is called in messages: its file, or the
  /// persistent store.
  std::string storeCheckpointName(int64_t step) const {
    return "the store in " + options.storeDir + " (step " +
           std::to_string(step) + ")";
  }
  std::string checkpointName(int64_t step) const {
    return start.persistentStore ? storeCheckpointName(step)
                                 : checkpointPath(settings.outDir, step);
  }
  /// A NaN or infinite `what` at `step`: training stops before the update.
  [[noreturn]] void stop(int64_t step, const std::string &what, double value,
                         const std::string &fix);
  void logEnd() const;
  void logProfile() const;

  const artifact::Artifact &artifact;
  const TrainOptions &options;
  const Settings &settings;
  const Start &start;
  BatchSampler &sampler;
  Evaluation *evaluation; // null without --val
  store::WeightStore &store;
  exec::Executor &executor;
  comm::Communicator &systems;
  MetricsFile *metrics; // rank 0's; null on the others
  std::ostream &log;

  const PeakFlops peak;
  Progress progress;
  std::vector<int32_t> tokens, targets; // one micro-batch
  Clock::time_point runStart;
  int64_t samplesSoFar = 0;
  // --profile: the steps timed, their wall time and the optimizer's share.
  int64_t profiledSteps = 0;
  double profiledSeconds = 0, updateSeconds = 0;
  std::string lastGood; // the newest checkpoint, for the NaN message
  TrainResult result;
};

TrainingLoop::TrainingLoop(const artifact::Artifact &artifact,
                           const TrainOptions &options, const Start &start,
                           BatchSampler &sampler, Evaluation *evaluation,
                           store::WeightStore &store, exec::Executor &executor,
                           comm::Communicator &systems, MetricsFile *metrics,
                           std::ostream &log)
    : artifact(artifact), options(options), settings(start.settings),
      start(start), sampler(sampler), evaluation(evaluation), store(store),
      executor(executor), systems(systems), metrics(metrics), log(log),
      peak(cpuPeakFlops(kernels::matmulThreads(), options.precision)),
      progress(log, options.progressBar && !options.quiet, start.firstStep(),
               start.settings.lastStep),
      tokens(size_t(artifact.microBatch * artifact.sequenceLength)),
      targets(tokens.size()) {
  result.outDir = settings.outDir;
  result.firstStep = start.firstStep();
  result.lastStep = start.firstStep() - 1;
  if (start.resume)
    lastGood = start.resume->file.path();
  if (start.storeResume)
    lastGood = storeCheckpointName(start.resumedStep());
}

TrainResult TrainingLoop::run() {
  logStart();
  runStart = Clock::now();
  InterruptGuard interrupt;
  for (int64_t step = start.firstStep(); step <= settings.lastStep; ++step) {
    finishStep(trainStep(step));
    if (step == options.stopAfterStep) {
      result.stopped = true;
      break;
    }
    // Every system stops after the same step: a signal reaches them at
    // different times, and a checkpoint needs them all.
    const int signal = int(systems.max(interrupt.signal()));
    if (signal && step < settings.lastStep) {
      if (result.lastCheckpoint != checkpointName(step))
        saveCheckpoint(step);
      result.interruptedBy = signal;
      break;
    }
  }
  progress.finish();
  result.peakRssBytes =
      int64_t(systems.max(double(readProcessMemory().peakBytes)));
  logEnd();
  return result;
}

void TrainingLoop::logStart() const {
  if (options.quiet)
    return;
  const std::string name = artifact.config.value("name", std::string());
  const int64_t accumulation = artifact.accumulation();
  log << "gigarun: " << options.artifactPath
      << (name.empty() ? "" : " (" + name + ")") << ": "
      << humanCount(double(artifact.parameterCount())) << " parameters, batch "
      << artifact.batchSize << " = "
      << (artifact.systems > 1 ? std::to_string(artifact.systems) + " x " : "")
      << artifact.microBatch << " x " << accumulation << " micro-batch"
      << (accumulation > 1 ? "es" : "") << ", sequence length "
      << artifact.sequenceLength << "\n";
  if (systems.size() > 1)
    log << "gigarun: " << systems.size()
        << " systems (mpirun), each training its share of the batch and "
           "keeping 1/"
        << systems.size() << " of the weights, gradients and optimizer state\n";
  log << "gigarun: data " << options.dataPath << " (" << sampler.tokenCount()
      << " tokens)";
  if (evaluation)
    log << ", val " << options.valPath << " ("
        << evaluation->sampler().tokenCount() << " tokens)";
  else
    log << ", no --val (no evaluation)";
  log << "; out " << settings.outDir << "\n";
  if (start.resume)
    log << "gigarun: resumed from " << start.resume->file.path() << " at step "
        << start.resume->state.step << "\n";
  if (start.storeResume)
    log << "gigarun: resumed from the store in " << options.storeDir
        << " at step " << start.resumedStep() << "\n";
  else if (start.persistentStore)
    log << "gigarun: the store in " << options.storeDir
        << " is the run's checkpoint: it is flushed to disk at each "
           "checkpoint step and kept when the run ends\n";
  if (start.restarted)
    log << "gigarun: --resume: " << settings.outDir
        << " holds the metrics of a run stopped before its first "
           "checkpoint; starting it again from step 1\n";
  log << "gigarun: matmuls in " << kernels::precisionName(options.precision)
      << (options.precision == kernels::MatmulPrecision::Bf16
              ? " (fp32 accumulation; weights, gradients and optimizer state "
                "fp32)"
              : "")
      << (options.precisionNote.empty() ? "" : "; " + options.precisionNote)
      << "\n";
  log << "gigarun: " << peak.assumption << "; model FLOPs per step "
      << fixed("%.3g", artifact.modelFlopsPerStep)
      << " (the compiler's count)\n";
  log.flush();
}

StepRecord TrainingLoop::trainStep(int64_t step) {
  const Clock::time_point stepStart = Clock::now();
  StepRecord record;
  record.step = step;
  std::optional<StepTrace> trace;
  if (step == options.traceStep)
    trace.emplace(artifact, start.contract.logits);
  // The run's first step creates plans and faults pages in: not profiled.
  const bool profiling = options.profile && step > start.firstStep();
  executor.setProfiling(profiling);
  record.loss = runMicroBatches(record, trace ? &*trace : nullptr);
  executor.setProfiling(false);
  if (!std::isfinite(record.loss))
    stop(step, "loss", record.loss,
         "lower run.learning_rate or max_gradient_norm (or check the data)");
  if (trace)
    trace->write(tracePath(settings.outDir, step), store, record,
                 start.checksum);

  const Clock::time_point updateStart = Clock::now();
  // A persistent store commits, with the update, where the run stands after
  // it, and the step's metrics line in case a kill comes before it is
  // appended.
  auto commit = [&](const store::UpdateStats &stats) {
    RunState state{step, sampler.state(), options.dataPath, settings.seed,
                   kernels::precisionName(options.precision)};
    nlohmann::json json = checkpointMetadata(artifact, start.checksum, state);
    StepRecord pending = record;
    fillRates(pending, stats, secondsSince(stepStart));
    json["record"] = pending.toJson();
    json["out"] = canonicalText(settings.outDir);
    return json;
  };
  store::UpdateStats stats = store.applyUpdate(
      step, 1.0 / double(artifact.accumulation() * artifact.systems), commit);
  if (profiling) {
    ++profiledSteps;
    updateSeconds += secondsSince(updateStart);
    profiledSeconds += secondsSince(stepStart);
  }
  if (!std::isfinite(stats.gradNorm))
    stop(step, "gradient norm", stats.gradNorm,
         "lower run.learning_rate (or check the data)");
  samplesSoFar += artifact.batchSize;
  fillRates(record, stats, secondsSince(stepStart));
  return record;
}

void TrainingLoop::fillRates(StepRecord &record,
                             const store::UpdateStats &stats,
                             double seconds) const {
  seconds = std::max(seconds, 1e-9);
  record.learningRate = stats.learningRate;
  record.gradNorm = stats.gradNorm;
  record.samplesPerSec = double(artifact.batchSize) / seconds;
  record.tokensPerSec = record.samplesPerSec * double(artifact.sequenceLength);
  record.mfu = artifact.modelFlopsPerStep / seconds / peak.flopsPerSec;
}

double TrainingLoop::runMicroBatches(StepRecord &record, StepTrace *trace) {
  // The step's whole batch, whatever the number of systems; this system
  // trains its consecutive share of it.
  record.batchOffsets = sampler.draw(artifact.batchSize);
  const int64_t micro = artifact.microBatch;
  const int64_t first = systems.rank() * artifact.accumulation();
  double lossSum = 0;
  for (int64_t m = 0; m < artifact.accumulation(); ++m) {
    auto begin = record.batchOffsets.begin() + (first + m) * micro;
    sampler.fill(std::vector<uint64_t>(begin, begin + micro), tokens.data(),
                 targets.data());
    if (trace)
      trace->addMicroBatch(m, tokens, targets, executor);
    lossSum += trainMicroBatch(executor, tokens.data(), targets.data());
  }
  return systems.sum(lossSum) /
         double(artifact.accumulation() * artifact.systems);
}

void TrainingLoop::finishStep(StepRecord record) {
  const int64_t step = record.step;
  const double globalRate =
      double(samplesSoFar) / std::max(secondsSince(runStart), 1e-9);
  progress.clear();
  if (!options.quiet)
    log << stepLine(record, globalRate);
  if (evaluation && evaluation->due(step, settings.lastStep)) {
    record.valLoss = evaluation->run(executor, systems);
    if (!options.quiet)
      log << evalLine(step, *record.valLoss);
  }
  if (metrics)
    metrics->append(record);
  if ((settings.checkpointSteps > 0 && step % settings.checkpointSteps == 0) ||
      step == settings.lastStep)
    saveCheckpoint(step);
  log.flush();
  result.lastStep = step;
  result.steps.push_back(std::move(record));
  progress.draw(step);
}

void TrainingLoop::saveCheckpoint(int64_t step) {
  if (start.persistentStore) {
    store.flush();
    result.lastCheckpoint = lastGood = checkpointName(step);
    return;
  }
  const std::string path = checkpointPath(settings.outDir, step);
  RunState state{step, sampler.state(), options.dataPath, settings.seed,
                 kernels::precisionName(options.precision)};
  store.save(path, checkpointMetadata(artifact, start.checksum, state));
  result.lastCheckpoint = lastGood = path;
}

void TrainingLoop::stop(int64_t step, const std::string &what, double value,
                        const std::string &fix) {
  progress.clear();
  throw TrainError("step " + std::to_string(step) + ": the " + what + " is " +
                   nonFinite(value) + "; training stopped. " +
                   (lastGood.empty()
                        ? std::string("No checkpoint was written yet")
                        : "The last good checkpoint is " + lastGood) +
                   "; " + fix + ", recompile, and start again");
}

void TrainingLoop::logEnd() const {
  if (options.quiet)
    return;
  if (result.interruptedBy) {
    log << "gigarun: stopped by " << signalName(result.interruptedBy)
        << " after step " << result.lastStep << "; checkpoint "
        << result.lastCheckpoint << "; continue with the same command and "
        << "--resume\n";
    return;
  }
  if (result.stopped) {
    log << "gigarun: --debug-exit-after-step " << result.lastStep
        << ": stopped as a killed run would, without the final checkpoint; "
           "continue with --resume\n";
    return;
  }
  log << "gigarun: trained to step " << settings.lastStep << "; checkpoint "
      << result.lastCheckpoint << ", metrics " << metricsPath(settings.outDir)
      << "\n";
  log << peakRssLine(result.peakRssBytes, options.memoryBudget);
  logProfile();
}

void TrainingLoop::logProfile() const {
  if (!options.profile)
    return;
  if (profiledSteps == 0) {
    log << "gigarun: --profile: no step to profile (the run's first step is "
           "left out; train at least 2)\n";
    return;
  }
  const double steps = double(profiledSteps);
  log << "gigarun: --profile: " << fixed("%.1f", 1e3 * profiledSeconds / steps)
      << " ms a step over " << profiledSteps
      << " step(s) (the run's first left out), "
      << kernels::precisionName(options.precision) << " matmuls, "
      << kernels::matmulThreads() << " thread(s)\n"
      << exec::Executor::profileTable(
             executor.profile(), profiledSeconds, steps, "step",
             {{"", "optimizer update (store)", profiledSteps, updateSeconds}},
             "other (batches, loss, bookkeeping)");
}

} // namespace

TrainResult runTraining(const artifact::Artifact &artifact,
                        const TrainOptions &givenOptions, std::ostream &log) {
  comm::Communicator &systems =
      givenOptions.systems ? *givenOptions.systems : comm::singleProcess();
  TrainOptions options = givenOptions;
  const bool root = systems.rank() == 0;
  if (!root) {
    options.quiet = true;
    options.progressBar = false;
  }
  if (systems.size() > 1 && !options.storeDir.empty())
    options.storeDir += "/rank-" + std::to_string(systems.rank());
  Start start = checkInputs(artifact, options, systems);
  const Settings &settings = start.settings;

  // Data: every file is checked before anything is written.
  const int64_t vocab = start.contract.vocab;
  BatchSampler sampler(options.dataPath, artifact.sequenceLength, vocab,
                       settings.seed);
  std::optional<Evaluation> evaluation;
  if (!options.valPath.empty())
    evaluation.emplace(artifact, vocab, options.valPath, settings.seed,
                       settings.evalSteps, settings.evalInterval);

  const int64_t storeBudget = planStoreBudget(artifact, options, log);
  store::StoreOptions storeOptions{options.storeDir, storeBudget, false,
                                   &systems};
  storeOptions.persistent = start.persistentStore;
  store::WeightStore store(artifact, storeOptions);
  if (start.persistentStore)
    checkOpenedStore(artifact, options, start, store);
  exec::Executor executor(artifact, store, options.precision);
  loadStartingWeights(start, store, sampler);
  if ((start.resume || start.storeResume) &&
      start.resumedStep() >= settings.lastStep)
    return nothingToTrain(start, options, log);

  // Everything checked on every system: rank 0 creates the out dir and the
  // metrics file.
  systems.sum(0); // no system is still checking that the out dir is new
  std::optional<RunDirLock> lock;
  std::optional<MetricsFile> metrics;
  if (root) {
    createRunDir(settings.outDir);
    lock.emplace(settings.outDir);
    if (int stale = removeStaleTemporaries(settings.outDir);
        stale && !options.quiet)
      log << "gigarun: removed " << stale
          << " temporary file(s) that a killed run left in " << settings.outDir
          << "\n";
    if (start.persistentStore)
      recordStore(settings.outDir, canonicalText(options.storeDir),
                  settings.seed);
    const std::string metricsFile = metricsPath(settings.outDir);
    const bool resumed = start.resume || start.storeResume;
    int64_t recorded = 0;
    if (resumed)
      recorded = truncateMetrics(metricsFile, start.resumedStep());
    metrics.emplace(metricsFile, /*truncate=*/!resumed);
    // A run killed between an update and its metrics line: the store
    // committed the line with the update.
    if (start.storeResume && recorded < start.resumedStep() &&
        store.committed().contains("record"))
      metrics->append(store.committed()["record"]);
  }
  TrainingLoop loop(artifact, options, start, sampler,
                    evaluation ? &*evaluation : nullptr, store, executor,
                    systems, metrics ? &*metrics : nullptr, log);
  return loop.run();
}

} // namespace giga::train
