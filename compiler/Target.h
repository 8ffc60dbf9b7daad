//===- Target.h - wafer target descriptions ---------------------*- C++ -*-===//
#ifndef GIGA_COMPILER_TARGET_H
#define GIGA_COMPILER_TARGET_H

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace giga {

/// A dataflow wafer (or this CPU standing in for one): a grid of PEs with
/// SRAM each, and the bandwidth weights stream in at.
struct Target {
  std::string name;
  std::string description;
  int64_t peRows = 0, peCols = 0;
  int64_t sramPerPeBytes = 0;
  double clockHz = 0.0;
  double flopsPerCyclePerPe = 0.0;
  double memoryxBytesPerSec = 0.0;
  double utilization = 0.0; // achievable fraction of peak on dense work
  /// Vocabulary columns of logits at a time in the fused head and loss, or 0
  /// to keep them apart (giga-fuse-linear-cross-entropy's default), and the
  /// widest head input it fuses by default (0: any): a wide head's second
  /// product over the logits can cost more than whole logits would.
  int64_t lossChunk = 2048;
  int64_t lossFusionMaxWidth = 0;

  int64_t pes() const { return peRows * peCols; }
  int64_t memoryBytes() const { return pes() * sramPerPeBytes; }
  double peakFlops() const { return pes() * flopsPerCyclePerPe * clockHz; }
  nlohmann::json toJson() const;
};

/// The targets shipped in configs/wafers (compiled into the tools).
std::vector<std::string> builtinTargetNames();

/// A target from its JSON text; throws ConfigError naming `source`, the key
/// and the fix.
Target parseTarget(const std::string &text, const std::string &source);

/// A built-in target by name ("wse2", "wse3", "host") or a JSON file; throws
/// ConfigError naming the file, the key and the fix.
Target loadTarget(const std::string &nameOrPath);

} // namespace giga

#endif // GIGA_COMPILER_TARGET_H
