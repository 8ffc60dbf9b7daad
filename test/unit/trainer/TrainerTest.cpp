//===- TrainerTest.cpp - the training loop on hand-built artifacts --------===//
//
// Trains the toy artifact of ToyArtifact.h (a few thousand parameters, a
// few milliseconds per step) and checks what gigarun promises: the loss
// falls, metrics.jsonl and checkpoints are written, a resumed run repeats
// the uninterrupted one bit for bit, traces hold the step's tensors, and
// every bad input is a TrainError (or the runtime's own error) that leaves
// nothing half-written.
//
//===----------------------------------------------------------------------===//

#include "ToyArtifact.h"
#include "test/unit/TempDir.h"

#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/store/Safetensors.h"
#include "runtime/store/WeightStore.h"
#include "runtime/train/Batches.h"
#include "runtime/train/Checkpoint.h"
#include "runtime/train/MemoryBudget.h"
#include "runtime/train/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>

using namespace giga;
using namespace giga::train;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using giga::test::TempDir;

std::vector<json> readMetrics(const std::string &dir) {
  std::vector<json> lines;
  std::ifstream in(fs::path(dir) / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line))
    lines.push_back(json::parse(line));
  return lines;
}

/// The header of a safetensors file as JSON, as it is in the file.
json readHeader(const std::string &path) {
  store::SafetensorsFile file(path);
  json header = json::object();
  if (!file.metadata().empty())
    header["__metadata__"] = file.metadata();
  for (const auto &[name, entry] : file.tensors())
    header[name] = {{"dtype", entry.dtype},
                    {"shape", entry.shape},
                    {"data_offsets", {entry.begin, entry.end}}};
  return header;
}

/// The raw bytes of tensor `name` in a safetensors file.
std::vector<char> tensorBytes(const std::string &path,
                              const std::string &name) {
  store::SafetensorsFile file(path);
  const store::SafetensorsEntry &entry = file.tensors().at(name);
  std::vector<char> bytes(entry.end - entry.begin);
  file.read(name, 0, bytes.data(), bytes.size());
  return bytes;
}

struct Fixture {
  TempDir dir;
  test::ToyShape shape;
  artifact::Artifact artifact;
  TrainOptions options;
  std::ostringstream log;

  explicit Fixture(test::ToyShape s = {}) : shape(s) {
    artifact = test::makeToyArtifact(shape);
    test::writeToyTokens(dir.path("train.bin"), 5000, shape.vocab);
    test::writeToyTokens(dir.path("val.bin"), 1000, shape.vocab, 7);
    options.artifactPath = dir.path("toy.wafer");
    options.dataPath = dir.path("train.bin");
    options.valPath = dir.path("val.bin");
    options.outDir = dir.path("run");
  }
  TrainResult run() { return runTraining(artifact, options, log); }
};

std::vector<double> losses(const std::vector<json> &metrics) {
  std::vector<double> values;
  for (const json &line : metrics)
    values.push_back(line["loss"].get<double>());
  return values;
}

} // namespace

TEST(ParseByteSize, AcceptsSuffixes) {
  EXPECT_EQ(parseByteSize("512M"), 512ll << 20);
  EXPECT_EQ(parseByteSize("2G"), 2ll << 30);
  EXPECT_EQ(parseByteSize("2g"), 2ll << 30);
  EXPECT_EQ(parseByteSize("1.5G"), 3ll << 29);
  EXPECT_EQ(parseByteSize("64KiB"), 64ll << 10);
  EXPECT_EQ(parseByteSize("64KB"), 64ll << 10);
  EXPECT_EQ(parseByteSize("1T"), 1ll << 40);
  EXPECT_EQ(parseByteSize("1000000"), 1000000);
}

TEST(ParseByteSize, RejectsGarbageWithOneLine) {
  for (const char *bad : {"", "abc", "12X", "-1", "1..2", "0", ".5G", "M",
                          "2 G", "1e9", "99999999999T"}) {
    try {
      parseByteSize(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const TrainError &error) {
      std::string message = error.what();
      EXPECT_NE(message.find("--memory-budget"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(ArtifactChecksum, NamesTheProgramNotTheReport) {
  artifact::Artifact a = test::makeToyArtifact();
  std::string base = artifactChecksum(a);
  EXPECT_EQ(base.size(), 16u);
  a.report["note"] = "other";
  EXPECT_EQ(artifactChecksum(a), base);
  a.params[0].shape[1] += 1;
  EXPECT_NE(artifactChecksum(a), base);
}

TEST(Trainer, MfuIsTheArtifactsModelFlopsOverTheStepTimeAndPeak) {
  Fixture f;
  f.options.steps = 2;
  f.artifact.modelFlopsPerStep = 1e12;
  f.run();
  double peak = cpuPeakFlops(kernels::matmulThreads()).flopsPerSec;
  for (const json &line : readMetrics(f.options.outDir)) {
    double seconds =
        f.artifact.batchSize / line["samples_per_sec"].get<double>();
    EXPECT_NEAR(line["mfu"].get<double>(), 1e12 / seconds / peak,
                1e-6 * line["mfu"].get<double>())
        << line.dump();
  }
}

TEST(CpuPeak, ScalesWithThreadsAndNamesTheHostIsa) {
  PeakFlops one = cpuPeakFlops(1), two = cpuPeakFlops(2);
  EXPECT_GT(one.flopsPerSec, 1e9);
  EXPECT_DOUBLE_EQ(two.flopsPerSec, 2 * one.flopsPerSec);
  kernels::CpuPeak host = kernels::cpuPeak(kernels::hostCpu());
  EXPECT_NE(one.assumption.find(host.fp32Basis), std::string::npos)
      << one.assumption;
}

TEST(Trainer, LossFallsAndFilesAreWritten) {
  Fixture f;
  TrainResult result = f.run();
  EXPECT_EQ(result.firstStep, 1);
  EXPECT_EQ(result.lastStep, 10);
  std::vector<json> metrics = readMetrics(f.options.outDir);
  ASSERT_EQ(metrics.size(), 10u);
  for (size_t i = 0; i < metrics.size(); ++i) {
    const json &line = metrics[i];
    EXPECT_EQ(line["step"], int64_t(i + 1));
    for (const char *key : {"loss", "lr", "grad_norm", "tokens_per_sec",
                            "samples_per_sec", "mfu"})
      EXPECT_TRUE(line[key].is_number()) << key;
    // batch 4 = 2 micro-batches of 2: four window offsets per step.
    EXPECT_EQ(line["batch_offsets"].size(), 4u);
    bool evalStep = (i + 1) % 5 == 0;
    EXPECT_EQ(line.contains("val_loss"), evalStep) << line.dump();
  }
  EXPECT_LT(metrics.back()["loss"].get<double>(),
            metrics.front()["loss"].get<double>());
  EXPECT_LT(metrics.back()["val_loss"].get<double>(),
            std::log(double(f.shape.vocab)));
  // Checkpoints every 4 steps and at the end.
  auto checkpoints = listCheckpoints(f.options.outDir);
  ASSERT_EQ(checkpoints.size(), 3u);
  EXPECT_EQ(checkpoints[0].first, 4);
  EXPECT_EQ(checkpoints[1].first, 8);
  EXPECT_EQ(checkpoints[2].first, 10);
  EXPECT_EQ(result.lastCheckpoint, checkpoints[2].second);
  json header = readHeader(checkpoints[2].second);
  json meta = json::parse(header["__metadata__"]["giga"].get<std::string>());
  EXPECT_EQ(meta["step"], 10);
  EXPECT_EQ(meta["artifact_checksum"], artifactChecksum(f.artifact));
  EXPECT_EQ(meta["config"], f.artifact.config);
  EXPECT_EQ(meta["seed"], f.shape.seed);
  EXPECT_EQ(meta["data"], f.options.dataPath);
  EXPECT_TRUE(meta["sampler_state"].is_string());
  for (const char *name : {"wte", "h.0.w", "h.1.w", "head", "adam.m.h.1.w"})
    EXPECT_TRUE(header.contains(name)) << name;
  // The log has gigaGPT's line for every step.
  std::string log = f.log.str();
  EXPECT_NE(log.find("| Step=1, Loss="), std::string::npos) << log;
  EXPECT_NE(log.find(" samples/sec, GlobalRate="), std::string::npos);
  EXPECT_NE(log.find(", LR="), std::string::npos);
  EXPECT_NE(log.find(", MFU="), std::string::npos);
  EXPECT_NE(log.find("| Eval Step=10, ValLoss="), std::string::npos);
  // The MFU peak is this machine's (32 FLOP/cycle on AVX2, 64 on AVX-512).
  EXPECT_NE(log.find(kernels::cpuPeak(kernels::hostCpu()).fp32Basis),
            std::string::npos)
      << log;
}

TEST(Trainer, SameSeedSameRunOtherSeedOtherRun) {
  Fixture a, b, c;
  a.options.steps = b.options.steps = c.options.steps = 3;
  c.options.seed = 99;
  a.run();
  b.run();
  c.run();
  std::vector<json> ma = readMetrics(a.options.outDir),
                    mb = readMetrics(b.options.outDir),
                    mc = readMetrics(c.options.outDir);
  EXPECT_EQ(losses(ma), losses(mb));
  EXPECT_NE(losses(ma), losses(mc));
  EXPECT_NE(ma[0]["batch_offsets"], mc[0]["batch_offsets"]);
}

TEST(Trainer, ResumeRepeatsTheUninterruptedRunBitForBit) {
  Fixture whole;
  whole.run();
  std::vector<json> expected = readMetrics(whole.options.outDir);

  // A run that got to step 6 (checkpoints 4 and 6) and was killed before
  // checkpoint 6 was renamed into place: metrics has steps 5 and 6 too.
  Fixture parts;
  parts.options.steps = 6;
  parts.run();
  fs::remove(fs::path(parts.options.outDir) / "checkpoint-6.safetensors");
  std::ofstream(fs::path(parts.options.outDir) / "metrics.jsonl",
                std::ios::app)
      << "{\"step\": 7, \"loss\": 1.0, \"batch_of"; // a torn line
  parts.options.steps.reset();
  parts.options.resume = true;
  TrainResult result = parts.run();
  EXPECT_EQ(result.firstStep, 5);
  EXPECT_NE(parts.log.str().find("resumed from"), std::string::npos);

  std::vector<json> actual = readMetrics(parts.options.outDir);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i]["step"], expected[i]["step"]);
    // Bit for bit: the doubles, not a tolerance.
    EXPECT_EQ(actual[i]["loss"].get<double>(),
              expected[i]["loss"].get<double>())
        << "step " << i + 1;
    EXPECT_EQ(actual[i]["grad_norm"].get<double>(),
              expected[i]["grad_norm"].get<double>());
    EXPECT_EQ(actual[i]["batch_offsets"], expected[i]["batch_offsets"]);
    EXPECT_EQ(actual[i].value("val_loss", -1.0),
              expected[i].value("val_loss", -1.0));
  }
  // The final weights are the same bytes too.
  std::string a = fs::path(whole.options.outDir) / "checkpoint-10.safetensors";
  std::string b = fs::path(parts.options.outDir) / "checkpoint-10.safetensors";
  for (const char *name : {"wte", "h.1.w", "head", "adam.v.head"})
    EXPECT_EQ(tensorBytes(a, name), tensorBytes(b, name)) << name;
}

TEST(Trainer, DebugStopEndsLikeAKilledRunThatResumes) {
  Fixture whole;
  whole.run();
  std::vector<json> expected = readMetrics(whole.options.outDir);

  Fixture stopped;
  stopped.options.stopAfterStep = 6; // checkpoints every 4 steps
  TrainResult result = stopped.run();
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.lastStep, 6);
  EXPECT_EQ(readMetrics(stopped.options.outDir).size(), 6u);
  auto checkpoints = listCheckpoints(stopped.options.outDir);
  ASSERT_EQ(checkpoints.size(), 1u) << "no final checkpoint";
  EXPECT_EQ(checkpoints[0].first, 4);
  std::string log = stopped.log.str();
  EXPECT_NE(log.find("--debug-exit-after-step 6"), std::string::npos) << log;
  EXPECT_EQ(log.find("trained to step"), std::string::npos) << log;

  stopped.options.stopAfterStep = -1;
  stopped.options.resume = true;
  EXPECT_EQ(stopped.run().firstStep, 5);
  EXPECT_EQ(losses(readMetrics(stopped.options.outDir)), losses(expected));
}

TEST(Trainer, DebugStopMustBeTrained) {
  Fixture f;
  f.options.steps = 3;
  f.options.stopAfterStep = 4;
  try {
    f.run();
    FAIL() << "accepted a step the run does not train";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("--debug-exit-after-step"),
              std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(f.options.outDir));
}

TEST(Trainer, ResumeWithNothingLeftToDo) {
  Fixture f;
  f.options.steps = 4;
  f.run();
  f.options.resume = true;
  TrainResult result = f.run();
  EXPECT_TRUE(result.steps.empty());
  EXPECT_NE(f.log.str().find("nothing to train"), std::string::npos);
  EXPECT_EQ(readMetrics(f.options.outDir).size(), 4u);
}

TEST(Trainer, ResumeRefusesAnotherArtifactOrModel) {
  Fixture f;
  f.options.steps = 4;
  f.run();
  f.options.resume = true;
  f.options.steps = 8;

  test::ToyShape wider = f.shape;
  wider.width = 12;
  f.artifact = test::makeToyArtifact(wider);
  try {
    f.run();
    FAIL() << "resumed another model";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("another model"),
              std::string::npos)
        << error.what();
  }
  test::ToyShape otherMicro = f.shape;
  otherMicro.micro = 1;
  f.artifact = test::makeToyArtifact(otherMicro);
  try {
    f.run();
    FAIL() << "resumed another artifact";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what())
                  .find("another artifact of the same "
                        "model"),
              std::string::npos)
        << error.what();
  }
  // Nothing was appended to the run.
  EXPECT_EQ(readMetrics(f.options.outDir).size(), 4u);
}

TEST(Trainer, ResumeNeedsACheckpointAndTheSameSeed) {
  Fixture f;
  f.options.resume = true;
  EXPECT_THROW(f.run(), TrainError); // no checkpoint yet
  EXPECT_FALSE(fs::exists(f.options.outDir));
  f.options.resume = false;
  f.options.steps = 4;
  f.run();
  f.options.resume = true;
  f.options.seed = 5;
  EXPECT_THROW(f.run(), TrainError);
}

TEST(Trainer, FreshRunDoesNotOverwriteARun) {
  Fixture f;
  f.options.steps = 2;
  f.run();
  auto before =
      fs::last_write_time(fs::path(f.options.outDir) / "metrics.jsonl");
  try {
    f.run();
    FAIL() << "overwrote a run";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("--resume"), std::string::npos);
  }
  EXPECT_EQ(fs::last_write_time(fs::path(f.options.outDir) / "metrics.jsonl"),
            before);
}

TEST(Trainer, InitStartsFromGivenWeights) {
  Fixture first;
  first.run();
  std::vector<json> trained = readMetrics(first.options.outDir);

  Fixture second;
  second.options.initPath =
      (fs::path(first.options.outDir) / "checkpoint-10.safetensors").string();
  second.options.steps = 1;
  second.run();
  std::vector<json> fromInit = readMetrics(second.options.outDir);
  // Starts where the first run ended, far below a fresh start.
  EXPECT_LT(fromInit[0]["loss"].get<double>(),
            trained[0]["loss"].get<double>() * 0.9);

  // --init of another model names a tensor.
  Fixture other;
  test::ToyShape wider = other.shape;
  wider.width = 12;
  other.artifact = test::makeToyArtifact(wider);
  other.options.initPath = second.options.initPath;
  try {
    other.run();
    FAIL() << "loaded another model's weights";
  } catch (const TrainError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("--init"), std::string::npos) << message;
    EXPECT_NE(message.find("another model"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(other.options.outDir));

  // --init of a file that is not safetensors names the flag and the file.
  Fixture foreign;
  foreign.options.initPath = foreign.options.dataPath;
  try {
    foreign.run();
    FAIL() << "loaded a token file as weights";
  } catch (const TrainError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("--init"), std::string::npos) << message;
    EXPECT_NE(message.find("not a safetensors file"), std::string::npos)
        << message;
  }
  EXPECT_FALSE(fs::exists(foreign.options.outDir));

  Fixture both;
  both.options.initPath = second.options.initPath;
  both.options.resume = true;
  EXPECT_THROW(both.run(), TrainError);
}

TEST(Trainer, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  test::ToyShape shape;
  shape.learningRate = 1e30; // the first update blows the weights up
  shape.checkpointSteps = 1;
  Fixture f(shape);
  try {
    f.run();
    FAIL() << "trained through a NaN";
  } catch (const TrainError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("step "), std::string::npos) << message;
    EXPECT_NE(message.find("checkpoint-"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  auto checkpoints = listCheckpoints(f.options.outDir);
  ASSERT_FALSE(checkpoints.empty());
  std::vector<json> metrics = readMetrics(f.options.outDir);
  // Every checkpoint and metrics line is of a good step.
  EXPECT_EQ(checkpoints.back().first, int64_t(metrics.size()));
  for (const json &line : metrics)
    EXPECT_TRUE(std::isfinite(line["loss"].get<double>()));
  for (const auto &entry : fs::directory_iterator(f.options.outDir))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos);
}

TEST(Trainer, TraceHoldsTheStep) {
  Fixture traced, plain;
  traced.options.traceStep = 3;
  traced.options.steps = plain.options.steps = 4;
  traced.run();
  plain.run();
  // Tracing does not change the run.
  EXPECT_EQ(losses(readMetrics(traced.options.outDir)),
            losses(readMetrics(plain.options.outDir)));

  std::string path =
      (fs::path(traced.options.outDir) / "trace-step-3.safetensors").string();
  json header = readHeader(path);
  const auto &a = traced.artifact;
  EXPECT_EQ(header["tokens"]["dtype"], "I32");
  EXPECT_EQ(header["tokens"]["shape"], json({a.batchSize, a.sequenceLength}));
  EXPECT_EQ(header["targets"]["shape"], json({a.batchSize, a.sequenceLength}));
  EXPECT_EQ(header["logits"]["shape"],
            json({a.microBatch, a.sequenceLength, traced.shape.vocab}));
  EXPECT_EQ(header["loss"]["shape"], json::array());
  for (const char *name :
       {"grad.wte", "grad.h.0.w", "grad.h.1.w", "grad.head", "grad.head_bias"})
    EXPECT_TRUE(header.contains(name)) << name;

  // The loss is the step's, the tokens those of its windows.
  std::vector<json> metrics = readMetrics(traced.options.outDir);
  std::vector<char> lossBytes = tensorBytes(path, "loss");
  float loss;
  std::memcpy(&loss, lossBytes.data(), 4);
  EXPECT_EQ(loss, float(metrics[2]["loss"].get<double>()));
  std::vector<uint64_t> offsets = metrics[2]["batch_offsets"];
  BatchSampler sampler(traced.options.dataPath, a.sequenceLength,
                       traced.shape.vocab, 1);
  std::vector<int32_t> tokens(offsets.size() * a.sequenceLength),
      targets(tokens.size());
  sampler.fill(offsets, tokens.data(), targets.data());
  std::vector<char> traceTokens = tensorBytes(path, "tokens");
  ASSERT_EQ(traceTokens.size(), tokens.size() * 4);
  EXPECT_EQ(std::memcmp(traceTokens.data(), tokens.data(), traceTokens.size()),
            0);

  // The head bias gradient of mean cross-entropy sums to 0 over the vocab
  // (softmax minus one-hot), and it is not all zeros.
  std::vector<char> biasBytes = tensorBytes(path, "grad.head_bias");
  std::vector<float> bias(biasBytes.size() / 4);
  std::memcpy(bias.data(), biasBytes.data(), biasBytes.size());
  double sum = 0, norm = 0;
  for (float g : bias) {
    sum += g;
    norm += std::fabs(g);
  }
  EXPECT_GT(norm, 1e-4);
  EXPECT_NEAR(sum, 0.0, 1e-5);
}

TEST(Trainer, TraceStepMustBeTrained) {
  Fixture f;
  f.options.steps = 3;
  f.options.traceStep = 4;
  EXPECT_THROW(f.run(), TrainError);
  EXPECT_FALSE(fs::exists(f.options.outDir));
}

TEST(Trainer, UnwritableOutDirIsAUserError) {
  Fixture f;
  std::ofstream(f.dir.path("file")) << "x";
  f.options.outDir = f.dir.path("file") + "/run";
  try {
    f.run();
    FAIL() << "trained into a file";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("--out"), std::string::npos)
        << error.what();
  }
}

TEST(Trainer, BadDataIsCaughtBeforeAnythingIsWritten) {
  Fixture f;
  // A token outside the vocabulary.
  std::vector<uint16_t> ids(200, 1);
  ids[150] = uint16_t(f.shape.vocab);
  std::ofstream(f.dir.path("bad.bin"), std::ios::binary)
      .write(reinterpret_cast<const char *>(ids.data()), 400);
  f.options.dataPath = f.dir.path("bad.bin");
  EXPECT_THROW(f.run(), BatchError);
  // Shorter than one window.
  std::ofstream(f.dir.path("short.bin"), std::ios::binary)
      .write(reinterpret_cast<const char *>(ids.data()), 8);
  f.options.dataPath = f.dir.path("short.bin");
  EXPECT_THROW(f.run(), BatchError);
  // A bad validation file too.
  f.options.dataPath = f.dir.path("train.bin");
  f.options.valPath = f.dir.path("short.bin");
  EXPECT_THROW(f.run(), BatchError);
  f.options.valPath = f.dir.path("missing.bin");
  EXPECT_THROW(f.run(), BatchError);
  EXPECT_FALSE(fs::exists(f.options.outDir));
}

TEST(Trainer, MemoryBudgetWithoutStoreMustFit) {
  Fixture f;
  f.options.memoryBudget = 1024; // the toy store needs ~50 KiB
  try {
    f.run();
    FAIL() << "ignored the budget";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("--store"), std::string::npos);
  }
  f.options.memoryBudget = 64 << 20;
  f.options.steps = 2;
  EXPECT_NO_THROW(f.run());
}

TEST(Trainer, DiskStoreTrainsLikeRam) {
  Fixture ram, disk;
  ram.options.steps = disk.options.steps = 3;
  disk.options.storeDir = disk.dir.path("store");
  // The budget covers the whole process: what this test binary holds now
  // (~10 MiB, ~50 under ASan) and 54 MiB for the run.
  disk.options.memoryBudget = readProcessMemory().rssBytes + (54 << 20);
  ram.run();
  disk.run();
  EXPECT_EQ(losses(readMetrics(ram.options.outDir)),
            losses(readMetrics(disk.options.outDir)));
}
