//===- Metrics.cpp - what a step measured, and metrics.jsonl --------------===//
#include "runtime/train/Metrics.h"

#include "runtime/kernels/Cpu.h"
#include "runtime/support/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace giga::train {

using nlohmann::json;

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

namespace {

[[noreturn]] void failErrno(const std::string &path, const std::string &what) {
  throw FileError(path + ": cannot " + what + ": " + std::strerror(errno) +
                  "; choose a writable directory");
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
    if (line.rfind("cpu MHz", 0) != 0)
      continue;
    size_t colon = line.find(':');
    double mhz =
        colon == std::string::npos ? 0 : std::atof(line.c_str() + colon + 1);
    if (mhz > 0) {
      source = "/proc/cpuinfo cpu MHz";
      return mhz;
    }
  }
  source = "unknown clock, assumed";
  return 2000.0;
}

} // namespace

MetricsFile::MetricsFile(const std::string &path, bool truncate)
    : filePath(path) {
  file = std::fopen(path.c_str(), truncate ? "w" : "a");
  if (!file)
    failErrno(path, "open for writing");
}

MetricsFile::~MetricsFile() {
  if (file)
    std::fclose(file);
}

void MetricsFile::append(const StepRecord &record) { append(record.toJson()); }

void MetricsFile::append(const nlohmann::json &record) {
  std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file) != line.size() ||
      std::fflush(file) != 0)
    failErrno(filePath, "write");
}

PeakFlops cpuPeakFlops(int threads, kernels::MatmulPrecision precision) {
  std::string source;
  double mhz = readCpuMHz(source);
  threads = std::max(1, threads);
  kernels::CpuPeak cpu = kernels::cpuPeak(kernels::hostCpu());
  // A bf16 step is held to the bf16 peak: MFU says how much of the
  // arithmetic it asked for the CPU could have given.
  bool bf16 =
      precision == kernels::MatmulPrecision::Bf16 && cpu.bf16FlopsPerCycle > 0;
  double perCycle = bf16 ? cpu.bf16FlopsPerCycle : cpu.fp32FlopsPerCycle;
  const std::string &basis = bf16 ? cpu.bf16Basis : cpu.fp32Basis;
  PeakFlops peak;
  peak.flopsPerSec = mhz * 1e6 * perCycle * threads;
  char text[320];
  std::snprintf(text, sizeof(text),
                "MFU assumes a peak of %.1f GFLOP/s %s: %d thread%s x %.0f "
                "MHz (%s) x %.0f FLOP/cycle (%s)",
                peak.flopsPerSec / 1e9, bf16 ? "bf16" : "fp32", threads,
                threads == 1 ? "" : "s", mhz, source.c_str(), perCycle,
                basis.c_str());
  peak.assumption = text;
  return peak;
}

} // namespace giga::train
