//===- gigarun.cpp - train a compiled step on this CPU --------------------===//
//
//   gigarun STEP.wafer --data TRAIN.bin [--val VAL.bin] [--steps N] ...
//   gigarun inspect STEP.wafer
//   gigarun eval STEP.wafer --checkpoint CKPT --data FILE
//   gigarun sample GEN.wafer --checkpoint CKPT --prompt TEXT
//   gigarun plot RUN_DIR... [-o loss.svg]
//   gigarun ops
//
// A thin main over runtime/train (docs/gigarun.md). Exit status: 0 done,
// 1 a user error (one line on stderr naming the file or flag and the fix),
// 2 an internal error.
//
//===----------------------------------------------------------------------===//

#include "Inspect.h"
#include "Plot.h"
#include "tools/interop/Interop.h"

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpSchema.h"
#include "runtime/artifact/TrainingEntryPoints.h"
#include "runtime/comm/MpiCommunicator.h"
#include "runtime/data/Tokenizer.h"
#include "runtime/exec/Executor.h"
#include "runtime/generate/Generator.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/store/WeightStore.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/Error.h"
#include "runtime/train/Batches.h"
#include "runtime/train/Checkpoint.h"
#include "runtime/train/Evaluation.h"
#include "runtime/train/Log.h"
#include "runtime/train/MemoryBudget.h"
#include "runtime/train/RunDir.h"
#include "runtime/train/Trainer.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
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

/// A whole number in [low, high], written as digits: CLI11 alone wraps
/// "-1" into an unsigned option and saturates an out-of-range one.
CLI::Validator wholeNumber(uint64_t low, uint64_t high) {
  return CLI::Validator(
      [=](std::string &text) -> std::string {
        uint64_t value = 0;
        auto [end, error] =
            std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || error != std::errc() ||
            end != text.data() + text.size() || value < low || value > high)
          return "'" + text + "' is not a whole number from " +
                 std::to_string(low) + " to " + std::to_string(high);
        return "";
      },
      "UINT");
}

/// Steps, intervals and counts: far beyond any run, far below overflow.
constexpr uint64_t kMaxCount = uint64_t(1) << 40;

/// --threads and --precision, as training and evaluation take them.
void addThreadsAndPrecision(CLI::App &app, int &threads,
                            std::string &precision) {
  // Measured on this 2-core machine: 2 threads make the GPT-2 124M step
  // 1.5x faster than 1 (docs/training.md).
  threads = int(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
  app.add_option("--threads", threads,
                 "threads per matmul (oneDNN); the default is this machine's "
                 "cores, at most 2")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  precision = "auto";
  app.add_option("--precision", precision,
                 "what matmuls multiply in: fp32; bf16 (operands rounded to "
                 "bf16, fp32 accumulation; weights, gradients and optimizer "
                 "state stay fp32), on CPUs with AVX512_BF16 or AMX only; "
                 "auto: bf16 where the CPU has it, else fp32")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
}

/// A subcommand's flags parsed; false (after printing help or one error
/// line) when it should exit with `status`.
bool parseFlags(CLI::App &app, int argc, char **argv, const char *command,
                int &status) {
  try {
    app.parse(argc, argv);
    return true;
  } catch (const CLI::ParseError &error) {
    if (error.get_exit_code() == 0) {
      status = app.exit(error);
      return false;
    }
    // One write, so that lines of several ranks under mpirun stay whole.
    std::cerr << "gigarun: error: " + oneLine(error.what()) + " (see " +
                     command + " --help)\n";
    status = 1;
    return false;
  }
}

/// --checkpoint: a checkpoint file, or a run directory's newest one.
std::string checkpointFile(const std::string &path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error))
    return path;
  auto checkpoints = train::listCheckpoints(path);
  if (!checkpoints.empty())
    return checkpoints.back().second;
  const std::string store = train::recordedStore(path).directory;
  if (!store.empty())
    throw train::TrainError(
        "--checkpoint " + path + ": the run keeps its state in the store " +
        store + ", not in checkpoint files; write one with gigarun export " +
        path + " --format giga --artifact STEP.wafer -o ckpt.safetensors");
  throw train::TrainError("--checkpoint " + path +
                          ": a directory with no checkpoint-N.safetensors; "
                          "give a checkpoint file or a run's --out");
}

/// --init-format / --checkpoint-format: the layout of a weights file.
void addWeightsFormat(CLI::App &app, const std::string &flag,
                      std::string &format) {
  format = "auto";
  app.add_option(flag, format,
                 "the weights' layout: giga (a gigarun checkpoint), hf "
                 "(Hugging Face GPT-2 model.safetensors), llmc (llm.c's "
                 "gpt2_124M.bin), or auto: told from the file "
                 "(docs/interop.md)")
      ->check(CLI::IsMember({"auto", "giga", "hf", "llmc"}))
      ->capture_default_str();
}

/// A checkpoint's weights, loaded for eval or sample: checked against the
/// artifact before the store is made, without optimizer state, and with the
/// store's bf16 copies when the matmuls are bf16 (the weights never change
/// here).
class FrozenWeights {
public:
  FrozenWeights(const artifact::Artifact &artifact,
                const std::string &checkpoint, const std::string &format,
                const std::string &storeDir, kernels::MatmulPrecision precision)
      : path(checkpointFile(checkpoint)),
        source(interop::openWeights(
            artifact, path, interop::parseLayout(format), "--checkpoint")),
        store(artifact,
              {storeDir, 0, precision == kernels::MatmulPrecision::Bf16}),
        executor(artifact, loaded(), precision) {}
  const std::string path;

private:
  store::WeightStore &loaded() {
    store.loadWeights(*source);
    return store;
  }
  std::unique_ptr<store::WeightSource> source;
  store::WeightStore store;

public:
  exec::Executor executor;
};

int runEval(int argc, char **argv) {
  CLI::App app{"The loss and perplexity of a checkpoint over every window of "
               "a token file (not a sample of windows): window i predicts "
               "tokens iT+1 .. iT+T from the T before, so every token but "
               "the first is scored once (a tail shorter than a window is "
               "not). Runs the artifact's eval_step.",
               "gigarun eval"};
  std::string artifactPath, checkpoint, format, dataPath, storeDir, precision;
  int threads = 1;
  bool json = false;
  app.add_option("STEP", artifactPath,
                 "the compiled training step the checkpoint was trained with")
      ->required();
  app.add_option("--checkpoint", checkpoint,
                 "weights: a checkpoint (safetensors), or a run directory "
                 "(its newest checkpoint); Hugging Face and llm.c GPT-2 "
                 "files too")
      ->required();
  addWeightsFormat(app, "--checkpoint-format", format);
  app.add_option("--data", dataPath,
                 "tokens to score: nanoGPT uint16 .bin or llm.c shard")
      ->required();
  app.add_option("--store", storeDir,
                 "keep the weights in files here (default: RAM)");
  app.add_flag("--json", json,
               "print one JSON object (loss, perplexity, windows, "
               "predictions) instead of the report");
  addThreadsAndPrecision(app, threads, precision);
  int status = 0;
  if (!parseFlags(app, argc, argv, "gigarun eval", status))
    return status;
  kernels::setMatmulThreads(threads);
  train::TrainOptions options;
  if (!resolvePrecision(precision, options))
    return 1;

  artifact::Artifact artifact = artifact::readArtifact(artifactPath);
  auto contract = artifact::training::contract(artifact, artifactPath);
  train::BatchSampler file(dataPath, artifact.sequenceLength, contract.vocab,
                           /*seed=*/0);
  FrozenWeights model(artifact, checkpoint, format, storeDir,
                      options.precision);
  exec::Executor &executor = model.executor;

  const bool bar = !json && ::isatty(STDOUT_FILENO) == 1;
  std::optional<train::Progress> progress;
  auto start = std::chrono::steady_clock::now();
  train::FileLoss loss = train::evaluateFile(
      artifact, executor, file, [&](int64_t done, int64_t total) {
        if (!progress)
          progress.emplace(std::cout, bar, 1, total);
        progress->draw(done);
      });
  if (progress)
    progress->finish();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double perplexity = std::exp(loss.meanLoss);
  char line[256];
  if (json) {
    std::snprintf(line, sizeof line,
                  "{\"loss\": %.9g, \"perplexity\": %.9g, \"windows\": %lld, "
                  "\"predictions\": %lld}\n",
                  loss.meanLoss, perplexity, (long long)loss.windows,
                  (long long)loss.predictions);
    std::cout << line;
    return 0;
  }
  std::cout << "gigarun: " << model.path << " on " << dataPath << ": "
            << loss.windows << " windows of " << artifact.sequenceLength
            << " tokens, " << loss.predictions << " predictions";
  if (loss.unscoredTokens > 0)
    std::cout << " (the last " << loss.unscoredTokens
              << " tokens, less than a window, unscored)";
  std::snprintf(line, sizeof line,
                "\ngigarun: loss %.4f, perplexity %.2f (%s matmuls, %.1f s, "
                "%.0f tokens/s)\n",
                loss.meanLoss, perplexity,
                kernels::precisionName(options.precision), seconds,
                double(loss.predictions) / std::max(seconds, 1e-9));
  std::cout << line;
  return 0;
}

/// "3,10,17" as token ids below `vocab`.
std::vector<int32_t> parseTokenList(const std::string &text, int64_t vocab) {
  std::vector<int32_t> ids;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    int64_t id = -1;
    auto [end, error] =
        std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || error != std::errc() ||
        end != item.data() + item.size() || id < 0 || id >= vocab)
      throw train::TrainError("--prompt-tokens: '" + item +
                              "' is not a token id from 0 to " +
                              std::to_string(vocab - 1));
    ids.push_back(int32_t(id));
  }
  if (ids.empty())
    throw train::TrainError("--prompt-tokens is empty; give ids such as 3,10");
  return ids;
}

/// --prompt TEXT, or @FILE for a file's text.
std::string promptText(const std::string &prompt) {
  if (prompt.empty() || prompt[0] != '@')
    return prompt;
  std::string path = prompt.substr(1);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw train::TrainError("--prompt " + prompt + ": " + path +
                            " is not a readable file");
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  if (!file && !file.eof())
    throw train::TrainError("--prompt " + prompt + ": cannot read " + path);
  return text.str();
}

int runSample(int argc, char **argv) {
  CLI::App app{
      "Sample text from a checkpoint, as nanoGPT's sample.py does, with a "
      "generation artifact (gigac compile CONFIG --task generate -o "
      "gen.wafer): the prompt runs through prefill, each new token through "
      "decode over the KV cache, weights streamed from the store as in "
      "training. A prompt longer than the context keeps its last tokens; "
      "past the context the window slides: each further token is predicted "
      "from the context's worth of tokens before it, run again from "
      "position 0 (so it costs a prefill).",
      "gigarun sample"};
  std::string artifactPath, checkpoint, format, prompt = "\n", promptTokens,
                                                storeDir, precision, logitsPath;
  int64_t maxNewTokens = 200, numSamples = 1;
  generate::SamplingOptions sampling;
  int threads = 1;
  app.add_option("GEN", artifactPath,
                 "the generation artifact (gigac compile --task generate)")
      ->required();
  app.add_option("--checkpoint", checkpoint,
                 "weights: a checkpoint (safetensors) of the same config, or "
                 "a run directory (its newest checkpoint); Hugging Face and "
                 "llm.c GPT-2 files too")
      ->required();
  addWeightsFormat(app, "--checkpoint-format", format);
  auto *textFlag = app.add_option(
      "--prompt", prompt,
      "text to continue (GPT-2 BPE), or @FILE for a file's text");
  app.add_option("--prompt-tokens", promptTokens,
                 "the prompt as token ids (3,10,17), for a vocabulary that is "
                 "not GPT-2's; prints ids instead of text")
      ->excludes(textFlag);
  app.add_option("--max-new-tokens", maxNewTokens, "tokens to generate")
      ->check(wholeNumber(1, kMaxCount))
      ->capture_default_str();
  app.add_option("--temperature", sampling.temperature,
                 "divides the logits; 0 is greedy (the most likely token)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--top-k", sampling.topK,
                 "sample among the k most likely tokens; 0: all")
      ->check(wholeNumber(0, kMaxCount))
      ->capture_default_str();
  app.add_option("--top-p", sampling.topP,
                 "then among the most likely tokens whose probability adds "
                 "up to p (nucleus sampling); 1: all")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--num-samples", numSamples,
                 "samples to draw (the artifact's --batch of them at a time)")
      ->check(wholeNumber(1, kMaxCount))
      ->capture_default_str();
  app.add_option("--seed", sampling.seed, "seeds the sampler")
      ->check(wholeNumber(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--store", storeDir,
                 "keep the weights in files here (default: RAM)");
  bool profile = false;
  app.add_flag("--profile", profile,
               "after sampling, print where a token's time went: each op's ms "
               "per token over every token but the first (which creates the "
               "kernels' plans)");
  app.add_option("--logits", logitsPath,
                 "also write every step's logits here: raw little-endian f32, "
                 "[steps, batch, vocab], steps = max-new-tokens per round");
  addThreadsAndPrecision(app, threads, precision);
  int status = 0;
  if (!parseFlags(app, argc, argv, "gigarun sample", status))
    return status;
  kernels::setMatmulThreads(threads);
  train::TrainOptions options;
  if (!resolvePrecision(precision, options))
    return 1;

  artifact::Artifact artifact = artifact::readArtifact(artifactPath);
  auto shape = artifact::generation::contract(artifact, artifactPath);
  const bool asIds = !promptTokens.empty();
  std::optional<data::Tokenizer> tokenizer;
  std::vector<int32_t> context;
  if (asIds) {
    context = parseTokenList(promptTokens, shape.vocab);
  } else {
    tokenizer.emplace(data::Tokenizer::loadFromDir());
    if (shape.vocab < int64_t(tokenizer->vocabSize()))
      throw train::TrainError(artifactPath + ": the model's vocabulary has " +
                              std::to_string(shape.vocab) +
                              " tokens, fewer than GPT-2's " +
                              std::to_string(tokenizer->vocabSize()) +
                              "; give the prompt as ids with --prompt-tokens");
    for (data::TokenId id : tokenizer->encode(promptText(prompt)))
      context.push_back(int32_t(id));
    if (context.empty())
      throw train::TrainError("--prompt is empty; give some text");
  }
  if (int64_t(context.size()) > shape.context) {
    std::cerr << "gigarun: note: the prompt has " << context.size()
              << " tokens; the model sees its last " << shape.context << "\n";
    context.erase(context.begin(), context.end() - shape.context);
  }

  FrozenWeights model(artifact, checkpoint, format, storeDir,
                      options.precision);
  exec::Executor &executor = model.executor;
  generate::Generator generator(artifact, executor, artifactPath);
  generate::Sampler sampler(sampling);
  std::optional<std::ofstream> logits;
  if (!logitsPath.empty()) {
    refuseNonRegularTarget(logitsPath);
    logits.emplace(logitsPath, std::ios::binary | std::ios::trunc);
    if (!*logits)
      throw train::TrainError("--logits " + logitsPath + ": cannot write");
  }

  auto text = [&](const std::vector<int32_t> &ids) {
    if (asIds) {
      std::string list;
      for (int32_t id : ids)
        list += (list.empty() ? "" : ",") + std::to_string(id);
      return list;
    }
    std::vector<data::TokenId> tokens(ids.begin(), ids.end());
    return tokenizer->decode(tokens);
  };
  // One sequence streams its tokens as they come; several print whole.
  const bool stream = shape.batch == 1;
  auto start = std::chrono::steady_clock::now();
  auto profileStart = start;
  int64_t generated = 0, profiledTokens = 0;
  for (int64_t done = 0; done < numSamples; done += shape.batch) {
    generator.start(context);
    std::vector<std::vector<int32_t>> samples(shape.batch);
    if (stream)
      std::cout << text(context) << (asIds ? "," : "") << std::flush;
    for (int64_t t = 0; t < maxNewTokens; ++t) {
      std::vector<int32_t> next(shape.batch);
      for (int64_t b = 0; b < shape.batch; ++b) {
        const float *row = generator.logits(b);
        if (logits)
          logits->write(reinterpret_cast<const char *>(row),
                        shape.vocab * sizeof(float));
        next[b] = sampler.next(row, shape.vocab);
        samples[b].push_back(next[b]);
      }
      if (stream)
        std::cout << text(next) << (asIds && t + 1 < maxNewTokens ? "," : "")
                  << std::flush;
      generated += shape.batch;
      if (profile && generated == shape.batch) {
        executor.setProfiling(true);
        profileStart = std::chrono::steady_clock::now();
      }
      if (t + 1 < maxNewTokens) {
        generator.append(next);
        profiledTokens += profile ? shape.batch : 0;
      }
    }
    for (int64_t b = 0; b < shape.batch && done + b < numSamples; ++b) {
      if (!stream)
        std::cout << text(context) << (asIds ? "," : "") << text(samples[b]);
      std::cout << "\n---------------\n";
    }
  }
  if (logits && !logits->flush())
    throw train::TrainError("--logits " + logitsPath + ": write failed");
  std::cout << std::flush; // the text before the summary on stderr
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  char line[256];
  std::snprintf(line, sizeof line,
                "gigarun: %lld tokens in %.2f s (%.1f tokens/s, %s matmuls; "
                "%lld prefill and %lld decode calls, window slid %lld "
                "times)\n",
                (long long)generated, seconds,
                double(generated) / std::max(seconds, 1e-9),
                kernels::precisionName(options.precision),
                (long long)generator.prefills, (long long)generator.decodes,
                (long long)generator.slides);
  std::cerr << line;
  if (profile && profiledTokens > 0) {
    double profiled = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - profileStart)
                          .count();
    std::snprintf(line, sizeof line,
                  "gigarun: --profile: %.2f ms a token over %lld tokens (the "
                  "first left out), %d thread(s)\n",
                  1e3 * profiled / double(profiledTokens),
                  (long long)profiledTokens, kernels::matmulThreads());
    std::cerr << line
              << exec::Executor::profileTable(executor.profile(), profiled,
                                              double(profiledTokens), "token",
                                              {}, "other (sampling, printing)");
  }
  return 0;
}

/// The persistent store (--store DIR of a training run) that `path` names:
/// the store's directory itself, or a run's --out that trained in one.
std::string storeDirectoryOf(const std::string &path) {
  std::error_code error;
  if (std::filesystem::exists(path + "/store.json", error))
    return path;
  const std::string recorded = train::recordedStore(path).directory;
  if (!recorded.empty())
    return recorded;
  throw train::TrainError(
      path + " is not a store (no store.json) nor a run that trained in one "
             "(no store.path); --format giga exports a --store directory, "
             "and a checkpoint file is in giga's format already");
}

/// gigarun export STORE --format giga --artifact A -o OUT: the store's last
/// committed step as a checkpoint file (weights and optimizer state), which
/// --resume, --init and the other exports read.
void exportStore(const std::string &path, const std::string &artifactPath,
                 const std::string &out) {
  if (artifactPath.empty())
    throw train::TrainError("--format giga reads a store, whose layout is "
                            "the artifact's: pass --artifact, the .wafer the "
                            "run trained with");
  const std::string storeDir = storeDirectoryOf(path);
  const artifact::Artifact artifact = artifact::readArtifact(artifactPath);
  // Streams chunk by chunk, so the export's memory stays small whatever
  // the model.
  const store::StoreSize size = store::storeSize(artifact);
  store::StoreOptions options{
      storeDir,
      std::max<int64_t>(int64_t(256) << 20, 2 * size.largestTensorBytes), false,
      nullptr};
  options.persistent = true;
  options.reopenOnly = true;
  store::WeightStore store(artifact, options);
  if (store.committedStep() == 0)
    throw train::TrainError("the store in " + storeDir +
                            " holds no trained step (it was never updated)");
  nlohmann::json metadata = store.committed();
  if (metadata.value("artifact_checksum", "") !=
      train::artifactChecksum(artifact))
    throw train::TrainError("the store in " + storeDir +
                            " was trained with another artifact than " +
                            artifactPath + "; pass the one it trained with");
  metadata.erase("record");
  metadata.erase("out");
  store.save(out, metadata);
  std::cout << "gigarun: wrote " << out << " from the store in " << storeDir
            << " at step " << store.committedStep() << "\n";
}

/// gigarun export CKPT --format hf|llmc|giga -o OUT
int runExport(int argc, char **argv) {
  CLI::App app{"Write a checkpoint's weights in another GPT-2 layout: hf, a "
               "directory with model.safetensors and config.json that "
               "transformers' GPT2LMHeadModel.from_pretrained loads; llmc, "
               "llm.c's gpt2_*.bin (version 3 fp32, 5 bf16); giga, a "
               "gigarun checkpoint file of a persistent store (a training "
               "run's --store). Each file is written whole or not at all "
               "(docs/interop.md, docs/store.md).",
               "gigarun export"};
  std::string checkpoint, format, type = "f32", out, artifactPath;
  app.add_option("CKPT", checkpoint,
                 "a gigarun checkpoint, or a run directory (its newest); "
                 "giga: a --store directory, or the --out of a run that "
                 "trained in one")
      ->required();
  app.add_option("--format", format, "hf, llmc or giga")
      ->required()
      ->check(CLI::IsMember({"hf", "llmc", "giga"}));
  app.add_option("--artifact", artifactPath,
                 "giga: the .wafer the store's run trained with");
  app.add_option("-o,--output", out,
                 "hf: the directory to write; llmc: the file")
      ->required();
  app.add_option("--dtype", type,
                 "f32, bf16 or f16 (f16: hf only); rounded to nearest even")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}))
      ->capture_default_str();
  int status = 0;
  if (!parseFlags(app, argc, argv, "gigarun export", status))
    return status;
  if (format == "giga") {
    exportStore(checkpoint, artifactPath, out);
    return 0;
  }
  interop::ExportOptions options;
  options.layout = *interop::parseLayout(format);
  options.type = type == "f32"    ? interop::ExportType::F32
                 : type == "bf16" ? interop::ExportType::Bf16
                                  : interop::ExportType::F16;
  options.out = out;
  const std::string path = checkpointFile(checkpoint);
  const auto start = std::chrono::steady_clock::now();
  interop::ExportSummary summary = interop::exportWeights(path, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  char line[160];
  std::snprintf(line, sizeof line, " (%lld tensors, %.1f MB %s) in %.1f s\n",
                (long long)summary.tensors, double(summary.bytes) / 1e6,
                type.c_str(), seconds);
  std::cout << "gigarun: wrote " << summary.weightsFile
            << (options.layout == interop::Layout::HuggingFace
                    ? " and config.json"
                    : "")
            << " from " << path << line;
  return 0;
}

/// gigarun plot RUN_DIR... [-o FILE]
int runPlot(int argc, char **argv) {
  CLI::App app{"Plot runs: training and validation loss, learning rate and "
               "tokens/s against the step, from each RUN_DIR's metrics.jsonl, "
               "as an SVG (open it in a browser). Several runs are overlaid.",
               "gigarun plot"};
  std::vector<std::string> runPaths;
  std::string output;
  app.add_option("RUN_DIR", runPaths,
                 "run directories (gigarun --out) or metrics.jsonl files")
      ->required();
  app.add_option("-o,--output", output,
                 "the SVG to write; '-' for stdout (default: "
                 "RUN_DIR/loss.svg of the first run)");
  int status = 0;
  if (!parseFlags(app, argc, argv, "gigarun plot", status))
    return status;
  std::vector<tools::RunMetrics> runs;
  for (const std::string &path : runPaths) {
    runs.push_back(tools::readRunMetrics(path));
    if (runs.back().truncatedLastLine)
      std::cerr << "gigarun: note: " << runs.back().path
                << ": skipped its last line, cut short (a killed run)\n";
  }
  if (output.empty())
    output =
        (std::filesystem::path(runs.front().path).parent_path() / "loss.svg")
            .string();
  std::string svg = tools::plotSvg(runs);
  if (output == "-") {
    std::cout << svg;
    return 0;
  }
  writeFileAtomically(output, svg); // refuses a device or a directory

  int64_t first = runs.front().firstStep, last = runs.front().lastStep;
  for (const tools::RunMetrics &run : runs) {
    first = std::min(first, run.firstStep);
    last = std::max(last, run.lastStep);
  }
  std::cout << "gigarun: wrote " << output << " (" << runs.size()
            << (runs.size() == 1 ? " run" : " runs") << ", steps " << first
            << " to " << last << ")\n";
  return 0;
}

int runTrain(int argc, char **argv, comm::Communicator *systems) {
  CLI::App app{
      "Train a compiled GPT step (gigac compile CONFIG -o "
      "step.wafer) on this CPU; a step compiled with --systems N trains "
      "data-parallel under mpirun -np N gigarun, each process one "
      "system.\nAlso: gigarun inspect STEP.wafer; "
      "gigarun eval STEP.wafer --checkpoint CKPT --data FILE; gigarun sample "
      "GEN.wafer --checkpoint CKPT --prompt TEXT; gigarun plot RUN_DIR...; "
      "gigarun export CKPT --format hf|llmc -o OUT; gigarun ops",
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
  auto *stepsFlag =
      app.add_option("--steps", steps,
                     "train up to this step (default: run.num_steps)")
          ->check(wholeNumber(1, kMaxCount));
  app.add_option("--out", options.outDir,
                 "metrics, checkpoints, traces (default: runs/<STEP stem>)");
  app.add_option("--store", options.storeDir,
                 "keep weights, gradients and optimizer state in files here "
                 "(default: RAM); under mpirun each system keeps its shard "
                 "in DIR/rank-R");
  auto *memoryBudgetFlag =
      app.add_option("--memory-budget", memoryBudget,
                     "resident store memory with --store, e.g. 512M, 2G");
  app.add_flag("--resume", options.resume,
               "continue from the newest checkpoint in --out");
  app.add_option("--init", options.initPath,
                 "start from these weights (no optimizer state): a gigarun "
                 "checkpoint, a Hugging Face GPT-2 model.safetensors or an "
                 "llm.c gpt2_*.bin");
  std::string initFormat;
  addWeightsFormat(app, "--init-format", initFormat);
  auto *seedFlag =
      app.add_option("--seed", seed, "data and init seed (default: run.seed)")
          ->check(wholeNumber(0, UINT64_MAX));
  auto *evalIntervalFlag =
      app.add_option("--eval-interval", evalInterval,
                     "evaluate on --val every N steps and at the end (default: "
                     "run.eval_interval; 0: only at the end)")
          ->check(wholeNumber(0, kMaxCount));
  auto *evalStepsFlag =
      app.add_option("--eval-steps", evalSteps,
                     "batches per evaluation (default: run.eval_steps)")
          ->check(wholeNumber(0, kMaxCount));
  auto *checkpointFlag =
      app.add_option("--checkpoint-steps", checkpointSteps,
                     "checkpoint every N steps and at the end (default: "
                     "run.checkpoint_steps; 0: only at the end)")
          ->check(wholeNumber(0, kMaxCount));
  app.add_option("--trace-step", options.traceStep,
                 "write --out/trace-step-K.safetensors: the batch, logits, "
                 "loss and gradients of step K")
      ->check(wholeNumber(1, kMaxCount));
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
      ->check(wholeNumber(1, kMaxCount));
  int threads = 1;
  std::string precision;
  addThreadsAndPrecision(app, threads, precision);
  int status = 0;
  if (!parseFlags(app, argc, argv, "gigarun", status))
    return status;
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
  if (*memoryBudgetFlag)
    options.memoryBudget = train::parseByteSize(memoryBudget);
  options.progressBar = ::isatty(STDOUT_FILENO) == 1;

  options.systems = systems;
  artifact::Artifact artifact = artifact::readArtifact(options.artifactPath);
  // With --resume the trainer refuses --init, before any file is read.
  if (!options.initPath.empty() && !options.resume)
    options.init = interop::openWeights(
        artifact, options.initPath, interop::parseLayout(initFormat), "--init");
  train::TrainResult result = train::runTraining(artifact, options, std::cout);
  // As a shell reports a process the signal killed: 130 for SIGINT.
  return result.interruptedBy ? 128 + result.interruptedBy : 0;
}

} // namespace

int main(int argc, char **argv) {
  // Every command but training; without one of these, gigarun trains.
  const std::map<std::string, int (*)(int, char **)> commands = {
      {"inspect", runInspect}, {"eval", runEval},     {"sample", runSample},
      {"plot", runPlot},       {"export", runExport}, {"ops", runOps}};
  const auto command = argc >= 2 ? commands.find(argv[1]) : commands.end();
  // Under mpirun each process is one system of a data-parallel run (a
  // training artifact compiled with --systems N); started plainly, gigarun
  // never touches MPI.
  std::unique_ptr<comm::MpiWorld> world;
  if (command == commands.end() && comm::launchedByMpi())
    world = std::make_unique<comm::MpiWorld>(&argc, &argv);
  const std::string tool = world && world->size() > 1
                               ? "gigarun (rank " +
                                     std::to_string(world->rank()) + " of " +
                                     std::to_string(world->size()) + ")"
                               : "gigarun";
  int status = runMain(
      tool.c_str(),
      [&] {
        if (command != commands.end())
          return command->second(argc - 1, argv + 1);
        return runTrain(argc, argv, world.get());
      },
      "train with --store DIR (and --memory-budget) or compile a smaller "
      "batch");
  // The other systems may be waiting for this one in a collective.
  if (status != 0 && world && world->size() > 1 && status < 128)
    world->abort(status);
  return status;
}
