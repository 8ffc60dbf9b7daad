//===- Log.h - what gigarun prints ------------------------------*- C++ -*-===//
//
// Formatting of the log on stdout (docs/gigarun.md, "Output"): gigaGPT's
// step line, the eval line, sizes and counts for people, and the progress
// bar drawn when stdout is a terminal.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_LOG_H
#define GIGA_RUNTIME_TRAIN_LOG_H

#include "runtime/train/Metrics.h"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace giga::train {

/// 1234567 as "1.23M" (powers of 1000: K, M, B, T).
std::string humanCount(double count);
/// 1536 as "1.5 KiB" (powers of 1024).
std::string humanBytes(double bytes);
/// Seconds as "m:ss" or "h:mm:ss"; "?" if not finite.
std::string formatDuration(double seconds);
/// `value` through printf's `format` ("%.5f").
std::string fixed(const char *format, double value);
/// "NaN", "inf" or "-inf" for a non-finite value (printf's spelling of NaN
/// varies with its sign bit).
std::string nonFinite(double value);
/// Bytes in MiB, rounded up.
int64_t roundUpToMiB(int64_t bytes);

/// gigaGPT's line for a step, then ours: "| Step=12, Loss=3.22396,
/// Rate=... samples/sec, GlobalRate=... samples/sec, LR=..., GradNorm=...,
/// Tokens/s=..., MFU=...%", with a newline.
std::string stepLine(const StepRecord &record, double globalRate);
/// "| Eval Step=12, ValLoss=3.17040", with a newline.
std::string evalLine(int64_t step, double valLoss);
/// "peak RSS: N MiB (budget M MiB)" or "(no --memory-budget)", a newline.
std::string peakRssLine(int64_t peakBytes, int64_t budgetBytes);

/// A progress bar with elapsed time and ETA, redrawn after each step and
/// erased before each log line; does nothing unless enabled.
class Progress {
public:
  Progress(std::ostream &out, bool enabled, int64_t first, int64_t last);
  /// Erases the bar before a log line.
  void clear();
  void draw(int64_t step);
  void finish();

private:
  std::ostream &out;
  bool enabled;
  int64_t first, last;
  std::chrono::steady_clock::time_point start;
  bool drawn = false;
};

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_LOG_H
