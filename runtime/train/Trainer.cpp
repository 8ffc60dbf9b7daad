//===- Trainer.cpp - the training loop behind gigarun ---------------------===//
#include "runtime/train/Trainer.h"
#include "runtime/support/Hash.h"

#include "runtime/exec/Executor.h"
#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/store/WeightStore.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/train/Batches.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace giga::train {

using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

//===----------------------------------------------------------------------===//
// Small pieces
//===----------------------------------------------------------------------===//

json StepRecord::toJson() const {
  json line = {{"step", step},
               {"loss", loss},
               {"lr", learningRate},
               {"grad_norm", gradNorm},
               {"tokens_per_sec", tokensPerSec},
               {"samples_per_sec", samplesPerSec},
               {"mfu", mfu},
               {"batch_offsets", batchOffsets}};
  if (valLoss)
    line["val_loss"] = *valLoss;
  return line;
}

int64_t parseByteSize(const std::string &text, const std::string &flag) {
  auto fail = [&]() -> int64_t {
    throw TrainError(flag + " '" + text +
                     "' is not a size; write a number of bytes with an "
                     "optional K, M, G or T suffix (powers of 1024), e.g. "
                     "512M or 2G");
  };
  size_t end = 0;
  while (
      end < text.size() &&
      (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
    ++end;
  if (end == 0 || std::count(text.begin(), text.begin() + end, '.') > 1 ||
      text[0] == '.')
    return fail();
  double number = std::strtod(text.substr(0, end).c_str(), nullptr);
  std::string unit = text.substr(end);
  for (char &c : unit)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B')
    unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'I')
    unit.pop_back();
  double scale;
  if (unit.empty())
    scale = 1;
  else if (unit == "K")
    scale = 1024.0;
  else if (unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    return fail();
  double bytes = number * scale;
  if (!(bytes >= 1) || bytes > 9.0e18)
    throw TrainError(flag + " '" + text +
                     "' is out of range; give a positive size such as 512M");
  return int64_t(bytes);
}

namespace {

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", (unsigned long long)value);
  return text;
}

std::string humanCount(double count) {
  const char *units[] = {"", "K", "M", "B", "T"};
  int unit = 0;
  while (count >= 1000 && unit < 4) {
    count /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit ? "%.2f%s" : "%.0f%s", count,
                units[unit]);
  return text;
}

std::string humanBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit ? "%.1f %s" : "%.0f %s", bytes,
                units[unit]);
  return text;
}

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  int64_t total = int64_t(seconds + 0.5);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld",
                  (long long)(total / 3600), (long long)(total / 60 % 60),
                  (long long)(total % 60));
  else
    std::snprintf(text, sizeof(text), "%lld:%02lld", (long long)(total / 60),
                  (long long)(total % 60));
  return text;
}

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

double readCpuMHz(std::string &source) {
  std::ifstream maxFreq(
      "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  double kHz = 0;
  if (maxFreq >> kHz && kHz > 0) {
    source = "cpuinfo_max_freq";
    return kHz / 1000.0;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        double mhz = std::atof(line.c_str() + colon + 1);
        if (mhz > 0) {
          source = "/proc/cpuinfo cpu MHz";
          return mhz;
        }
      }
    }
  }
  source = "unknown clock, assumed";
  return 2000.0;
}

[[noreturn]] void failErrno(const std::string &path, const std::string &what) {
  throw FileError(path + ": cannot " + what + ": " + std::strerror(errno) +
                  "; choose a writable directory");
}

void writeAll(int fd, const void *data, size_t size, const std::string &path) {
  if (!writeFully(fd, data, size))
    failErrno(path, "write");
}

std::string parentOf(const std::string &path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

} // namespace

ProcessMemory readProcessMemory() {
  ProcessMemory memory;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    // "VmRSS:     1234 kB"
    int64_t *field = line.rfind("VmRSS:", 0) == 0   ? &memory.rssBytes
                     : line.rfind("VmHWM:", 0) == 0 ? &memory.peakBytes
                                                    : nullptr;
    if (field)
      *field = std::atoll(line.c_str() + 6) * 1024;
  }
  return memory;
}

namespace {

/// Bytes of --memory-budget kept back from the store for what the baseline
/// does not see: heap growth during training (oneDNN's scratchpads are made
/// at the first run), the streamer's stack, and the kernel's fault-around,
/// which may map up to 64 KiB of cached neighbours per fault before the
/// store drops them (docs/store.md). Measured slack is a few MiB
/// (test/e2e/gigarun-memory-budget.sh).
constexpr int64_t kBudgetReserve = int64_t(16) << 20;

/// The store's bulk-work chunk for a budget and the 8 of them it keeps
/// back (WeightStore.cpp, docs/store.md): its budget must hold the largest
/// tensor plus these.
int64_t storeChunkReserve(int64_t storeBudget) {
  const int64_t page = 4096, maxChunk = int64_t(4) << 20;
  return 8 * std::clamp(std::max<int64_t>(storeBudget, 0) / 64 / page * page,
                        page, maxChunk);
}

int64_t roundUpToMiB(int64_t bytes) {
  const int64_t mib = int64_t(1) << 20;
  return (bytes + mib - 1) / mib;
}

} // namespace

int64_t storeBudgetFor(int64_t budgetBytes, int64_t baselineBytes,
                       int64_t largestTensorBytes) {
  int64_t storeBudget = budgetBytes - baselineBytes - kBudgetReserve;
  if (storeBudget >= largestTensorBytes + storeChunkReserve(storeBudget))
    return storeBudget;
  // The smallest store budget that holds the largest tensor and the chunks
  // (which grow with the budget, up to 8 x 4 MiB): a short fixpoint.
  int64_t minimum = largestTensorBytes + storeChunkReserve(largestTensorBytes);
  while (minimum - storeChunkReserve(minimum) < largestTensorBytes)
    minimum = largestTensorBytes + storeChunkReserve(minimum);
  int64_t enough = baselineBytes + kBudgetReserve + minimum;
  throw TrainError(
      "--memory-budget " + humanBytes(double(budgetBytes)) +
      " is too small: the process holds " + humanBytes(double(baselineBytes)) +
      " before the weight store (the program, its libraries, the data and "
      "the executor's activation arena), " +
      humanBytes(double(kBudgetReserve)) +
      " are reserved for the heap, and the store needs at least " +
      humanBytes(double(minimum)) + " (its largest tensor, " +
      humanBytes(double(largestTensorBytes)) +
      ", resident while a kernel reads it, plus its streaming chunks); "
      "raise --memory-budget to at least " +
      std::to_string(roundUpToMiB(enough)) + "M");
}

std::string artifactChecksum(const artifact::Artifact &artifact) {
  json program = artifact::toJson(artifact);
  program.erase("report");
  return hex(fnv1a64(program.dump()));
}

PeakFlops cpuPeakFlops(int threads) {
  std::string source;
  double mhz = readCpuMHz(source);
  threads = std::max(1, threads);
  kernels::CpuPeak cpu = kernels::cpuPeak(kernels::hostCpu());
  PeakFlops peak;
  peak.flopsPerSec = mhz * 1e6 * cpu.fp32FlopsPerCycle * threads;
  char text[320];
  std::snprintf(text, sizeof(text),
                "MFU assumes a peak of %.1f GFLOP/s fp32: %d thread%s x %.0f "
                "MHz (%s) x %.0f FLOP/cycle (%s)",
                peak.flopsPerSec / 1e9, threads, threads == 1 ? "" : "s", mhz,
                source.c_str(), cpu.fp32FlopsPerCycle, cpu.fp32Basis.c_str());
  peak.assumption = text;
  return peak;
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

void writeSafetensors(const std::string &path,
                      const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  json header = json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  std::vector<size_t> sizes;
  size_t offset = 0;
  for (const NamedTensor &tensor : tensors) {
    size_t elements = 1;
    for (int64_t dim : tensor.shape)
      elements *= size_t(dim);
    size_t bytes = elements * 4; // F32 and I32 only
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0)
    text.push_back(' ');
  uint64_t length = text.size();

  std::string temporary = path + ".tmp." + std::to_string(getpid());
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    failErrno(path, "create a file in " + parentOf(path));
  try {
    writeAll(fd, &length, sizeof(length), path);
    writeAll(fd, text.data(), text.size(), path);
    for (size_t i = 0; i < tensors.size(); ++i)
      writeAll(fd, tensors[i].data, sizes[i], path);
    if (::fsync(fd) != 0)
      failErrno(path, "flush");
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    errno = saved;
    failErrno(path, "move the finished file into place");
  }
  int dir = ::open(parentOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

json readSafetensorsHeader(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw TrainError(path + ": cannot open (" + std::strerror(errno) +
                     "); check the path");
  file.seekg(0, std::ios::end);
  uint64_t size = uint64_t(file.tellg());
  file.seekg(0);
  uint64_t length = 0;
  auto bad = [&](const std::string &why) -> TrainError {
    return TrainError(path + ": not a safetensors checkpoint (" + why +
                      "); pass a file written by gigarun or "
                      "safetensors.torch.save_file");
  };
  if (size < 8 || !file.read(reinterpret_cast<char *>(&length), 8))
    throw bad("shorter than its 8-byte header length");
  if (length == 0 || length > size - 8 || length > (uint64_t(1) << 30))
    throw bad("header length " + std::to_string(length) + " does not fit the " +
              std::to_string(size) + "-byte file");
  std::string text(length, '\0');
  if (!file.read(text.data(), std::streamsize(length)))
    throw bad("truncated header");
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception &) {
    throw bad("its header is not JSON");
  }
  if (!header.is_object())
    throw bad("its header is not a JSON object");
  uint64_t dataBytes = size - 8 - length;
  for (auto &[name, tensor] : header.items()) {
    if (name == "__metadata__")
      continue;
    if (!tensor.is_object() || !tensor.contains("data_offsets") ||
        !tensor["data_offsets"].is_array() ||
        tensor["data_offsets"].size() != 2 ||
        !tensor["data_offsets"][1].is_number_unsigned() ||
        tensor["data_offsets"][1].get<uint64_t>() > dataBytes)
      throw bad("tensor '" + name + "' lies outside the file: truncated?");
  }
  return header;
}

//===----------------------------------------------------------------------===//
// The training loop
//===----------------------------------------------------------------------===//

namespace {

/// The giga metadata of a checkpoint, or a null json if it has none.
json checkpointMetadata(const json &header) {
  if (!header.contains("__metadata__") || !header["__metadata__"].is_object())
    return nullptr;
  const json &metadata = header["__metadata__"];
  if (!metadata.contains("giga") || !metadata["giga"].is_string())
    return nullptr;
  try {
    return json::parse(metadata["giga"].get<std::string>());
  } catch (const json::exception &) {
    return nullptr;
  }
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Checks that a safetensors file holds every weight of the artifact with
/// the right shape (and the optimizer state when `withOptimizer`), so a
/// file of another model is refused with a message that names a tensor.
void checkTensors(const artifact::Artifact &artifact, const json &header,
                  const std::string &path, const std::string &flag,
                  bool withOptimizer) {
  for (const artifact::Parameter &param : artifact.params) {
    for (int64_t layer = 0; layer < param.layers; ++layer) {
      std::string name = param.fullName(layer);
      std::vector<std::string> names = {name};
      if (withOptimizer && artifact.optimizer.kind == "adamw") {
        names.push_back("adam.m." + name);
        names.push_back("adam.v." + name);
      } else if (withOptimizer) {
        names.push_back("sgd.momentum." + name);
      }
      for (const std::string &wanted : names) {
        if (!header.contains(wanted))
          throw TrainError(flag + " " + path + ": has no tensor '" + wanted +
                           "', so it is not a checkpoint of this model (" +
                           std::to_string(artifact.parameterCount()) +
                           " parameters); pass a checkpoint of the same "
                           "model");
        const json &tensor = header[wanted];
        std::vector<int64_t> shape;
        if (tensor.contains("shape") && tensor["shape"].is_array())
          for (const json &dim : tensor["shape"])
            shape.push_back(dim.is_number_integer() ? dim.get<int64_t>() : -1);
        if (shape != param.shape)
          throw TrainError(flag + " " + path + ": tensor '" + wanted + "' is " +
                           shapeText(shape) + " but the artifact's is " +
                           shapeText(param.shape) +
                           ": a checkpoint of another model; pass one of the "
                           "same model");
        if (tensor.value("dtype", "") != "F32")
          throw TrainError(flag + " " + path + ": tensor '" + wanted + "' is " +
                           tensor.value("dtype", "?") +
                           ", expected F32; convert it to float32");
      }
    }
  }
}

struct Settings {
  int64_t lastStep;
  int64_t evalInterval, evalSteps, checkpointSteps;
  uint64_t seed;
  std::string outDir;
};

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
  if (options.seed) {
    s.seed = *options.seed;
  } else {
    const json &config = artifact.config;
    s.seed = 0;
    if (config.contains("run") && config["run"].is_object() &&
        config["run"].contains("seed") && config["run"]["seed"].is_number())
      s.seed = config["run"]["seed"].get<uint64_t>();
  }
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
    s.outDir = "runs/" + fs::path(options.artifactPath).stem().string();
  return s;
}

/// metrics.jsonl of a resumed run: lines for steps after the checkpoint (a
/// killed run's) and torn lines are dropped, so no step appears twice.
void truncateMetrics(const std::string &path, int64_t checkpointStep) {
  std::ifstream in(path);
  if (!in)
    return;
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      json record = json::parse(line);
      if (record.is_object() && record.contains("step") &&
          record["step"].is_number_integer() &&
          record["step"].get<int64_t>() <= checkpointStep)
        kept += line + "\n";
    } catch (const json::exception &) {
      // A line cut short by a kill.
    }
  }
  in.close();
  writeFileAtomically(path, kept);
}

/// Appends one line per step and flushes it, so a killed run keeps every
/// step it finished.
class MetricsFile {
public:
  MetricsFile(const std::string &path, bool truncate) : path(path) {
    file = std::fopen(path.c_str(), truncate ? "w" : "a");
    if (!file)
      failErrno(path, "open for writing");
  }
  ~MetricsFile() {
    if (file)
      std::fclose(file);
  }
  void append(const json &record) {
    std::string line = record.dump() + "\n";
    if (std::fwrite(line.data(), 1, line.size(), file) != line.size() ||
        std::fflush(file) != 0)
      failErrno(path, "write");
  }

private:
  std::string path;
  FILE *file = nullptr;
};

class Progress {
public:
  Progress(std::ostream &out, bool enabled, int64_t first, int64_t last)
      : out(out), enabled(enabled), first(first), last(last),
        start(Clock::now()) {}
  /// Erases the bar before a log line.
  void clear() {
    if (enabled && drawn)
      out << "\r\033[K";
    drawn = false;
  }
  void draw(int64_t step) {
    if (!enabled)
      return;
    double done = double(step - first + 1), total = double(last - first + 1);
    double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    double eta = elapsed / done * (total - done);
    const int width = 30;
    int filled = int(width * done / total);
    std::string bar(size_t(filled), '#');
    bar.resize(width, '.');
    out << "\r[" << bar << "] " << step << "/" << last << " "
        << formatDuration(elapsed) << " elapsed, ETA " << formatDuration(eta)
        << std::flush;
    drawn = true;
  }
  void finish() {
    if (enabled && drawn)
      out << "\n";
    drawn = false;
  }

private:
  std::ostream &out;
  bool enabled;
  int64_t first, last;
  Clock::time_point start;
  bool drawn = false;
};

/// "NaN", "inf" or "-inf" for a non-finite value (printf's spelling of
/// NaN varies with its sign bit).
std::string nonFinite(double value) {
  return std::isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf";
}

std::string fixed(const char *format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

std::string checkpointPath(const std::string &dir, int64_t step) {
  return (fs::path(dir) /
          ("checkpoint-" + std::to_string(step) + ".safetensors"))
      .string();
}

} // namespace

TrainResult runTraining(const artifact::Artifact &artifact,
                        const TrainOptions &options, std::ostream &log) {
  Settings s = resolveSettings(artifact, options);
  const std::string checksum = artifactChecksum(artifact);
  const int64_t micro = artifact.microBatch;
  const int64_t accumulation = artifact.accumulation();
  const int64_t T = artifact.sequenceLength;

  if (options.resume && !options.initPath.empty())
    throw TrainError("--resume and --init exclude each other: --resume "
                     "continues the run in --out, --init starts a new one "
                     "from given weights");

  // A RAM store cannot fit a budget smaller than itself: say so before
  // anything is built (with the rest of the process it is checked again
  // once the executor has been measured, below).
  if (options.memoryBudget > 0 && options.storeDir.empty()) {
    int64_t perParam = artifact.optimizer.kind == "adamw" ? 16 : 12;
    double need = double(perParam) * double(artifact.parameterCount());
    if (need > double(options.memoryBudget))
      throw TrainError("--memory-budget " + humanBytes(options.memoryBudget) +
                       ": the weight store of " + options.artifactPath +
                       " needs " + humanBytes(need) +
                       " in RAM; also pass --store DIR to keep it on disk");
  }

  // The out dir: a fresh run does not overwrite another run's files.
  std::string ckptPath;
  json ckptMeta;
  int64_t ckptStep = 0;
  if (options.resume) {
    auto checkpoints = listCheckpoints(s.outDir);
    if (checkpoints.empty())
      throw TrainError("--resume: no checkpoint-<step>.safetensors in " +
                       s.outDir +
                       "; pass the --out of the run to continue, or drop "
                       "--resume to start a new run");
    ckptPath = checkpoints.back().second;
    json header = readSafetensorsHeader(ckptPath);
    ckptMeta = checkpointMetadata(header);
    if (!ckptMeta.is_object() || !ckptMeta.contains("step") ||
        !ckptMeta["step"].is_number_integer() ||
        !ckptMeta.contains("sampler_state") ||
        !ckptMeta["sampler_state"].is_string())
      throw TrainError(ckptPath +
                       ": has no gigarun metadata (step, sampler "
                       "state), so it cannot be resumed; start a "
                       "new run with --init " +
                       ckptPath);
    ckptStep = ckptMeta["step"].get<int64_t>();
    if (ckptMeta.value("artifact_checksum", "") != checksum) {
      bool sameModel = ckptMeta.contains("config") &&
                       ckptMeta["config"].is_object() &&
                       ckptMeta["config"].value("model", json()) ==
                           artifact.config.value("model", json());
      throw TrainError(
          "--resume " + ckptPath + ": the checkpoint was trained with " +
          (sameModel ? std::string("another artifact of the same model "
                                   "(recompiled with other settings)")
                     : std::string("another model")) +
          " than " + options.artifactPath +
          "; resume with the artifact it was trained with, or pass another "
          "--out to start a new run");
    }
    checkTensors(artifact, header, ckptPath, "--resume", true);
    uint64_t ckptSeed = ckptMeta.value("seed", uint64_t(0));
    if (options.seed && *options.seed != ckptSeed)
      throw TrainError("--seed " + std::to_string(*options.seed) + ": " +
                       ckptPath + " was trained with seed " +
                       std::to_string(ckptSeed) +
                       "; drop --seed when resuming");
    s.seed = ckptSeed;
    std::string ckptData = ckptMeta.value("data", "");
    std::error_code error;
    if (!ckptData.empty() && fs::weakly_canonical(ckptData, error) !=
                                 fs::weakly_canonical(options.dataPath, error))
      std::cerr << "gigarun: warning: " << ckptPath << " was trained on "
                << ckptData << ", now --data is " << options.dataPath
                << "; the batches will not match an uninterrupted run\n";
  } else {
    std::vector<std::string> existing;
    for (auto &[step, path] : listCheckpoints(s.outDir))
      existing.push_back(fs::path(path).filename().string());
    std::error_code error;
    fs::path metrics = fs::path(s.outDir) / "metrics.jsonl";
    if (fs::exists(metrics, error) && fs::file_size(metrics, error) > 0)
      existing.push_back("metrics.jsonl");
    if (!existing.empty())
      throw TrainError(s.outDir + " already holds a run (" + existing.front() +
                       (existing.size() > 1 ? ", ..." : "") +
                       "); continue it with --resume, or pass another --out "
                       "(or delete the directory)");
  }
  if (!options.initPath.empty())
    checkTensors(artifact, readSafetensorsHeader(options.initPath),
                 options.initPath, "--init", false);

  const int64_t firstStep = ckptStep + 1;
  if (options.traceStep >= 0 &&
      (options.traceStep < firstStep || options.traceStep > s.lastStep))
    throw TrainError("--trace-step " + std::to_string(options.traceStep) +
                     " is not among the steps this run trains (" +
                     std::to_string(firstStep) + ".." +
                     std::to_string(s.lastStep) + "); pick one of those");

  // Data: every file is checked before anything is written.
  BatchSampler sampler(options.dataPath, T, artifact.vocabSize, s.seed);
  std::unique_ptr<BatchSampler> valSampler;
  std::string valStart;
  if (!options.valPath.empty()) {
    valSampler = std::make_unique<BatchSampler>(
        options.valPath, T, artifact.vocabSize, s.seed ^ 0x5eed5eed5eedull);
    valStart = valSampler->state();
  }
  bool evaluating = valSampler && s.evalSteps > 0;

  // --memory-budget bounds the whole process. What it holds besides the
  // store (code, the artifact, the data, the executor's zeroed arena and
  // matmul plans) is measured on an executor built against a scratch store
  // of the same kind with no budget (neither is touched, so neither adds
  // resident pages), then freed; the store gets the rest. Building the
  // executor twice costs one more zeroing of the arena (under a second for
  // GPT-2 124M's 2.2 GiB), and measuring beats predicting what oneDNN and
  // the heap hold.
  int64_t storeBudget = 0;
  if (options.memoryBudget > 0) {
    ProcessMemory baseline;
    {
      store::WeightStore scratch(artifact, {options.storeDir, 0});
      exec::Executor probe(artifact, scratch);
      baseline = readProcessMemory();
    }
    int64_t largest = 0, storeBytes = 0;
    for (const artifact::Parameter &param : artifact.params) {
      int64_t bytes = (param.elements() * 4 + 4095) / 4096 * 4096;
      largest = std::max(largest, bytes);
      storeBytes +=
          bytes * param.layers * (artifact.optimizer.kind == "adamw" ? 4 : 3);
    }
    if (options.storeDir.empty()) {
      if (baseline.rssBytes + storeBytes + kBudgetReserve >
          options.memoryBudget)
        throw TrainError(
            "--memory-budget " + humanBytes(double(options.memoryBudget)) +
            ": the weight store of " + options.artifactPath + " needs " +
            humanBytes(double(storeBytes)) + " in RAM on top of the " +
            humanBytes(double(baseline.rssBytes)) +
            " the rest of the process holds; pass --store DIR to keep the "
            "store on disk, or raise --memory-budget");
    } else {
      storeBudget =
          storeBudgetFor(options.memoryBudget, baseline.rssBytes, largest);
    }
    if (!options.quiet)
      log << "gigarun: --memory-budget " << humanBytes(options.memoryBudget)
          << ": " << humanBytes(double(baseline.rssBytes))
          << " resident before the store, "
          << (options.storeDir.empty()
                  ? humanBytes(double(storeBytes)) + " RAM store"
                  : humanBytes(double(storeBudget)) + " for the store in " +
                        options.storeDir)
          << "\n";
  }
  store::WeightStore store(artifact, {options.storeDir, storeBudget});
  exec::Executor executor(artifact, store);
  if (options.resume) {
    store.load(ckptPath, /*withOptimizer=*/true);
    sampler.restore(ckptMeta["sampler_state"].get<std::string>());
  } else {
    store.initialize(s.seed);
    if (!options.initPath.empty())
      store.load(options.initPath, /*withOptimizer=*/false);
  }

  TrainResult result;
  result.outDir = s.outDir;
  result.firstStep = firstStep;
  result.lastStep = ckptStep;
  if (options.resume && ckptStep >= s.lastStep) {
    if (!options.quiet)
      log << "gigarun: " << ckptPath << " is at step " << ckptStep
          << ", not before --steps " << s.lastStep << ": nothing to train\n";
    result.lastCheckpoint = ckptPath;
    return result;
  }

  // Everything checked: create the out dir and the metrics file.
  {
    std::error_code error;
    fs::create_directories(s.outDir, error);
    if (error || !fs::is_directory(s.outDir))
      throw TrainError("--out " + s.outDir + ": cannot create the directory (" +
                       (error ? error.message() : "a file is in the way") +
                       "); pass --out with a writable directory");
    if (::access(s.outDir.c_str(), W_OK) != 0)
      throw TrainError("--out " + s.outDir +
                       ": the directory is not "
                       "writable; pass --out with a writable directory");
  }
  std::string metricsPath = (fs::path(s.outDir) / "metrics.jsonl").string();
  if (options.resume)
    truncateMetrics(metricsPath, ckptStep);
  MetricsFile metrics(metricsPath, /*truncate=*/!options.resume);

  const double flopsPerStep = artifact.modelFlopsPerStep;
  const PeakFlops peak = cpuPeakFlops(kernels::matmulThreads());
  if (!options.quiet) {
    std::string name = artifact.config.value("name", std::string());
    log << "gigarun: " << options.artifactPath
        << (name.empty() ? "" : " (" + name + ")") << ": "
        << humanCount(double(artifact.parameterCount()))
        << " parameters, batch " << artifact.batchSize << " = " << micro
        << " x " << accumulation << " micro-batch"
        << (accumulation > 1 ? "es" : "") << ", sequence length " << T << "\n";
    log << "gigarun: data " << options.dataPath << " (" << sampler.tokenCount()
        << " tokens)";
    if (valSampler)
      log << ", val " << options.valPath << " (" << valSampler->tokenCount()
          << " tokens)";
    else
      log << ", no --val (no evaluation)";
    log << "; out " << s.outDir << "\n";
    if (options.resume)
      log << "gigarun: resumed from " << ckptPath << " at step " << ckptStep
          << "\n";
    log << "gigarun: " << peak.assumption << "; model FLOPs per step "
        << fixed("%.3g", flopsPerStep) << " (the compiler's count)\n";
    log.flush();
  }

  auto saveCheckpoint = [&](int64_t step) {
    json metadata = {{"step", step},
                     {"config", artifact.config},
                     {"artifact_checksum", checksum},
                     {"sampler_state", sampler.state()},
                     {"data", options.dataPath},
                     {"seed", s.seed}};
    std::string path = checkpointPath(s.outDir, step);
    store.save(path, metadata);
    result.lastCheckpoint = path;
  };

  auto evaluate = [&]() {
    valSampler->restore(valStart);
    std::vector<int32_t> tokens(size_t(micro * T)), targets(size_t(micro * T));
    double sum = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < s.evalSteps; ++i)
      for (int64_t m = 0; m < accumulation; ++m) {
        valSampler->next(micro, tokens.data(), targets.data());
        sum += executor.evaluate(tokens.data(), targets.data());
        ++count;
      }
    return sum / double(count);
  };

  const char *killHook = std::getenv("GIGARUN_TEST_KILL_AFTER_STEP");
  const int64_t killAfter = killHook ? std::atoll(killHook) : -1;

  std::vector<int32_t> tokens(size_t(micro * T)), targets(size_t(micro * T));
  Progress progress(log, options.progressBar && !options.quiet, firstStep,
                    s.lastStep);
  const Clock::time_point runStart = Clock::now();
  int64_t samplesSoFar = 0;
  std::string lastGood = options.resume ? ckptPath : "";

  for (int64_t step = firstStep; step <= s.lastStep; ++step) {
    Clock::time_point stepStart = Clock::now();
    StepRecord record;
    record.step = step;
    bool tracing = step == options.traceStep;
    std::vector<int32_t> traceTokens, traceTargets;
    std::vector<float> traceLogits;
    std::vector<int64_t> logitsShape;

    double lossSum = 0;
    for (int64_t m = 0; m < accumulation; ++m) {
      std::vector<uint64_t> offsets =
          sampler.next(micro, tokens.data(), targets.data());
      record.batchOffsets.insert(record.batchOffsets.end(), offsets.begin(),
                                 offsets.end());
      if (tracing) {
        traceTokens.insert(traceTokens.end(), tokens.begin(), tokens.end());
        traceTargets.insert(traceTargets.end(), targets.begin(), targets.end());
        if (m == 0 && artifact.logits >= 0) {
          // The forward alone leaves the logits intact (in a full pass the
          // backward may reuse their bytes); it changes no weights.
          executor.evaluate(tokens.data(), targets.data());
          const artifact::Buffer &buffer = artifact.buffers[artifact.logits];
          const float *data =
              static_cast<const float *>(executor.buffer(artifact.logits));
          traceLogits.assign(data, data + buffer.type.elements());
          logitsShape = buffer.type.shape;
        }
      }
      lossSum += executor.runMicroBatch(tokens.data(), targets.data());
    }
    record.loss = lossSum / double(accumulation);
    if (!std::isfinite(record.loss)) {
      progress.clear();
      throw TrainError(
          "step " + std::to_string(step) + ": the loss is " +
          nonFinite(record.loss) + "; training stopped. " +
          (lastGood.empty() ? std::string("No checkpoint was written yet")
                            : "The last good checkpoint is " + lastGood) +
          "; lower run.learning_rate or max_gradient_norm (or check the "
          "data), recompile, and start again");
    }

    if (tracing) {
      std::vector<std::vector<float>> grads;
      std::vector<NamedTensor> tensors;
      int64_t batch = artifact.batchSize;
      tensors.push_back({"tokens", "I32", {batch, T}, traceTokens.data()});
      tensors.push_back({"targets", "I32", {batch, T}, traceTargets.data()});
      if (!traceLogits.empty())
        tensors.push_back({"logits", "F32", logitsShape, traceLogits.data()});
      float loss = float(record.loss);
      tensors.push_back({"loss", "F32", {}, &loss});
      float scale = float(1.0 / double(accumulation));
      for (size_t p = 0; p < artifact.params.size(); ++p) {
        const artifact::Parameter &param = artifact.params[p];
        for (int64_t layer = 0; layer < param.layers; ++layer) {
          const float *grad = store.grad(int32_t(p), layer);
          std::vector<float> scaled(grad, grad + param.elements());
          for (float &value : scaled)
            value *= scale;
          grads.push_back(std::move(scaled));
        }
      }
      size_t next = 0;
      for (size_t p = 0; p < artifact.params.size(); ++p)
        for (int64_t layer = 0; layer < artifact.params[p].layers; ++layer)
          tensors.push_back({"grad." + artifact.params[p].fullName(layer),
                             "F32", artifact.params[p].shape,
                             grads[next++].data()});
      writeSafetensors((fs::path(s.outDir) /
                        ("trace-step-" + std::to_string(step) + ".safetensors"))
                           .string(),
                       tensors,
                       {{"giga", json({{"step", step},
                                       {"artifact_checksum", checksum},
                                       {"batch_offsets", record.batchOffsets}})
                                     .dump()}});
    }

    store::UpdateStats stats =
        store.applyUpdate(step, 1.0 / double(accumulation));
    if (!std::isfinite(stats.gradNorm)) {
      progress.clear();
      throw TrainError(
          "step " + std::to_string(step) + ": the gradient norm is " +
          nonFinite(stats.gradNorm) + "; training stopped. " +
          (lastGood.empty() ? std::string("No checkpoint was written yet")
                            : "The last good checkpoint is " + lastGood) +
          "; lower run.learning_rate (or check the data), recompile, and "
          "start again");
    }
    double seconds =
        std::chrono::duration<double>(Clock::now() - stepStart).count();
    seconds = std::max(seconds, 1e-9);
    samplesSoFar += artifact.batchSize;
    double total =
        std::chrono::duration<double>(Clock::now() - runStart).count();
    record.learningRate = stats.learningRate;
    record.gradNorm = stats.gradNorm;
    record.samplesPerSec = double(artifact.batchSize) / seconds;
    record.tokensPerSec = record.samplesPerSec * double(T);
    record.mfu = flopsPerStep / seconds / peak.flopsPerSec;
    double globalRate = double(samplesSoFar) / std::max(total, 1e-9);

    progress.clear();
    if (!options.quiet)
      log << "| Step=" << step << ", Loss=" << fixed("%.5f", record.loss)
          << ", Rate=" << fixed("%.2f", record.samplesPerSec)
          << " samples/sec, GlobalRate=" << fixed("%.2f", globalRate)
          << " samples/sec, LR=" << fixed("%.4e", record.learningRate)
          << ", GradNorm=" << fixed("%.4f", record.gradNorm)
          << ", Tokens/s=" << fixed("%.0f", record.tokensPerSec)
          << ", MFU=" << fixed("%.2f", record.mfu * 100) << "%\n";

    bool last = step == s.lastStep;
    if (evaluating &&
        ((s.evalInterval > 0 && step % s.evalInterval == 0) || last)) {
      record.valLoss = evaluate();
      if (!options.quiet)
        log << "| Eval Step=" << step
            << ", ValLoss=" << fixed("%.5f", *record.valLoss) << "\n";
    }
    metrics.append(record.toJson());
    if ((s.checkpointSteps > 0 && step % s.checkpointSteps == 0) || last) {
      saveCheckpoint(step);
      lastGood = result.lastCheckpoint;
    }
    log.flush();
    result.lastStep = step;
    result.steps.push_back(std::move(record));
    progress.draw(step);
    if (step == killAfter) {
      log.flush();
      std::raise(SIGKILL);
    }
  }
  progress.finish();
  result.peakRssBytes = readProcessMemory().peakBytes;
  if (!options.quiet) {
    log << "gigarun: trained to step " << s.lastStep << "; checkpoint "
        << result.lastCheckpoint << ", metrics " << metricsPath << "\n";
    log << "peak RSS: " << roundUpToMiB(result.peakRssBytes) << " MiB ("
        << (options.memoryBudget > 0
                ? "budget " + std::to_string(options.memoryBudget >> 20) +
                      " MiB"
                : std::string("no --memory-budget"))
        << ")\n";
  }
  return result;
}

} // namespace giga::train
