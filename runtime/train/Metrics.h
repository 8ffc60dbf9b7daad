//===- Metrics.h - what a step measured, and metrics.jsonl ------*- C++ -*-===//
//
// One StepRecord per optimizer step: the loss, learning rate, gradient
// norm, rates and MFU, and the windows it drew; metrics.jsonl holds one as
// JSON per line (docs/gigarun.md). MFU divides the artifact's model FLOPs
// by the step time and this CPU's assumed peak (cpuPeakFlops).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_METRICS_H
#define GIGA_RUNTIME_TRAIN_METRICS_H

#include "runtime/kernels/Matmul.h"

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace giga::train {

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

/// metrics.jsonl, open for appending (or truncated): one line per step,
/// flushed after each, so a killed run keeps every step it finished.
/// Throws FileError naming the file.
class MetricsFile {
public:
  MetricsFile(const std::string &path, bool truncate);
  ~MetricsFile();
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;
  void append(const StepRecord &record);
  /// A record already in metrics.jsonl's form (StepRecord::toJson).
  void append(const nlohmann::json &record);
  const std::string &path() const { return filePath; }

private:
  std::string filePath;
  FILE *file = nullptr;
};

/// The assumed peak fp32 FLOP/s of this CPU for `threads` cores: clock ×
/// FLOP/cycle of the ISA oneDNN runs on (kernels::cpuPeak: 32 for AVX2+FMA,
/// 64 for AVX-512). The clock comes from cpufreq's cpuinfo_max_freq, else
/// /proc/cpuinfo "cpu MHz".
struct PeakFlops {
  double flopsPerSec = 0.0;
  std::string assumption; // one line for the log
};
PeakFlops cpuPeakFlops(int threads, kernels::MatmulPrecision precision =
                                        kernels::MatmulPrecision::F32);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_METRICS_H
