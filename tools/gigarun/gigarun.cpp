//===- gigarun.cpp - train a compiled step on this CPU --------------------===//
//
//   gigarun STEP.wafer --data TRAIN.bin [--val VAL.bin] [--steps N] ...
//   gigarun inspect STEP.wafer
//   gigarun ops
//
// A thin main over runtime/train (docs/gigarun.md). Exit status: 0 done,
// 1 a user error (one line on stderr naming the file or flag and the fix),
// 2 an internal error.
//
//===----------------------------------------------------------------------===//

#include "Inspect.h"

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpSchema.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/support/Error.h"
#include "runtime/train/MemoryBudget.h"
#include "runtime/train/Trainer.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unistd.h>

using namespace giga;

namespace {

int runInspect(int argc, char **argv) {
  CLI::App app{"Print what a compiled training step (step.wafer) holds",
               "gigarun inspect"};
  std::string path;
  app.add_option("STEP", path, "the artifact, from gigac compile")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &error) {
    int status = app.exit(error);
    return status == 0 ? 0 : 1;
  }
  artifact::Artifact artifact = artifact::readArtifact(path);
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  tools::inspectArtifact(artifact, path, error ? 0 : int64_t(size), std::cout);
  return 0;
}

int runOps(int argc, char **argv) {
  CLI::App app{
      "Print every op an artifact can carry (runtime/artifact/Ops.def) "
      "as the Markdown table of docs/artifact.md",
      "gigarun ops"};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &error) {
    int status = app.exit(error);
    return status == 0 ? 0 : 1;
  }
  std::cout << artifact::opTableMarkdown();
  return 0;
}

/// --precision into options.precision and the note the log prints; false
/// (after one message) for bf16 on a CPU without bf16 arithmetic.
bool resolvePrecision(const std::string &requested,
                      train::TrainOptions &options) {
  const char *isa = kernels::cpuIsaName(kernels::hostCpu().isa);
  bool hasBf16 = kernels::hasBf16Arithmetic();
  if (requested == "bf16" && !hasBf16) {
    std::cerr << "gigarun: error: --precision bf16 needs a CPU with "
                 "AVX512_BF16 or AMX-BF16; this one is "
              << isa << " (use --precision fp32 or auto)\n";
    return false;
  }
  bool bf16 = requested == "bf16" || (requested == "auto" && hasBf16);
  options.precision =
      bf16 ? kernels::MatmulPrecision::Bf16 : kernels::MatmulPrecision::F32;
  if (requested == "auto")
    options.precisionNote = std::string("--precision auto on ") + isa +
                            (hasBf16 ? "" : ", which has no bf16 arithmetic");
  return true;
}

int runTrain(int argc, char **argv) {
  CLI::App app{"Train a compiled GPT step (gigac compile CONFIG -o "
               "step.wafer) on this CPU.\nAlso: gigarun inspect STEP.wafer; "
               "gigarun ops",
               "gigarun"};
  train::TrainOptions options;
  std::string memoryBudget;
  int64_t steps = 0, evalInterval = 0, evalSteps = 0, checkpointSteps = 0;
  uint64_t seed = 0;
  app.add_option("STEP", options.artifactPath,
                 "the compiled step, from gigac compile")
      ->required();
  app.add_option("--data", options.dataPath,
                 "training tokens: nanoGPT uint16 .bin or llm.c shard")
      ->required();
  app.add_option("--val", options.valPath, "validation tokens, same formats");
  auto *stepsFlag = app.add_option(
      "--steps", steps, "train up to this step (default: run.num_steps)");
  app.add_option("--out", options.outDir,
                 "metrics, checkpoints, traces (default: runs/<STEP stem>)");
  app.add_option("--store", options.storeDir,
                 "keep weights, gradients and optimizer state in files here "
                 "(default: RAM)");
  app.add_option("--memory-budget", memoryBudget,
                 "resident store memory with --store, e.g. 512M, 2G");
  app.add_flag("--resume", options.resume,
               "continue from the newest checkpoint in --out");
  app.add_option("--init", options.initPath,
                 "start from these weights (safetensors; no optimizer state)");
  auto *seedFlag =
      app.add_option("--seed", seed, "data and init seed (default: run.seed)");
  auto *evalIntervalFlag =
      app.add_option("--eval-interval", evalInterval,
                     "evaluate on --val every N steps and at the end (default: "
                     "run.eval_interval; 0: only at the end)");
  auto *evalStepsFlag =
      app.add_option("--eval-steps", evalSteps,
                     "batches per evaluation (default: run.eval_steps)");
  auto *checkpointFlag =
      app.add_option("--checkpoint-steps", checkpointSteps,
                     "checkpoint every N steps and at the end (default: "
                     "run.checkpoint_steps; 0: only at the end)");
  app.add_option("--trace-step", options.traceStep,
                 "write --out/trace-step-K.safetensors: the batch, logits, "
                 "loss and gradients of step K");
  app.add_flag("--quiet", options.quiet, "print nothing but errors");
  app.add_flag("--profile", options.profile,
               "after training, print where a step's time went: each op's "
               "ms per step (by op, and the slowest kernel/op pairs), the "
               "optimizer update and the store, over every step but the "
               "run's first");
  app.add_option("--debug-exit-after-step", options.stopAfterStep,
                 "debug: simulate a killed run, for testing resume: exit "
                 "after step N (its metrics and any checkpoint it writes) "
                 "without the final checkpoint")
      ->check(CLI::PositiveNumber);
  // Measured on this 2-core machine: 2 threads make the GPT-2 124M step
  // 1.5x faster than 1 (docs/training.md).
  int threads = int(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
  app.add_option("--threads", threads,
                 "threads per matmul (oneDNN); the default is this machine's "
                 "cores, at most 2")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  std::string precision = "auto";
  app.add_option("--precision", precision,
                 "what matmuls multiply in: fp32; bf16 (operands rounded to "
                 "bf16, fp32 accumulation; weights, gradients and optimizer "
                 "state stay fp32), on CPUs with AVX512_BF16 or AMX only; "
                 "auto: bf16 where the CPU has it, else fp32")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &error) {
    if (error.get_exit_code() == 0)
      return app.exit(error);
    std::cerr << "gigarun: error: " << oneLine(error.what())
              << " (see gigarun --help)\n";
    return 1;
  }
  kernels::setMatmulThreads(threads);
  if (!resolvePrecision(precision, options))
    return 1;
  if (*stepsFlag)
    options.steps = steps;
  if (*seedFlag)
    options.seed = seed;
  if (*evalIntervalFlag)
    options.evalInterval = evalInterval;
  if (*evalStepsFlag)
    options.evalSteps = evalSteps;
  if (*checkpointFlag)
    options.checkpointSteps = checkpointSteps;
  if (!memoryBudget.empty())
    options.memoryBudget = train::parseByteSize(memoryBudget);
  options.progressBar = ::isatty(STDOUT_FILENO) == 1;

  artifact::Artifact artifact = artifact::readArtifact(options.artifactPath);
  train::runTraining(artifact, options, std::cout);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return runMain(
      "gigarun",
      [&] {
        if (argc >= 2 && std::string(argv[1]) == "inspect")
          return runInspect(argc - 1, argv + 1);
        if (argc >= 2 && std::string(argv[1]) == "ops")
          return runOps(argc - 1, argv + 1);
        return runTrain(argc, argv);
      },
      "train with --store DIR (and --memory-budget) or compile a smaller "
      "batch");
}
