//===- Log.cpp - what gigarun prints: numbers for people, step lines ------===//
#include "runtime/train/Log.h"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace giga::train {

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

std::string fixed(const char *format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

std::string nonFinite(double value) {
  return std::isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf";
}

int64_t roundUpToMiB(int64_t bytes) {
  const int64_t mib = int64_t(1) << 20;
  return (bytes + mib - 1) / mib;
}

std::string stepLine(const StepRecord &record, double globalRate) {
  return "| Step=" + std::to_string(record.step) +
         ", Loss=" + fixed("%.5f", record.loss) +
         ", Rate=" + fixed("%.2f", record.samplesPerSec) +
         " samples/sec, GlobalRate=" + fixed("%.2f", globalRate) +
         " samples/sec, LR=" + fixed("%.4e", record.learningRate) +
         ", GradNorm=" + fixed("%.4f", record.gradNorm) +
         ", Tokens/s=" + fixed("%.0f", record.tokensPerSec) +
         ", MFU=" + fixed("%.2f", record.mfu * 100) + "%\n";
}

std::string evalLine(int64_t step, double valLoss) {
  return "| Eval Step=" + std::to_string(step) +
         ", ValLoss=" + fixed("%.5f", valLoss) + "\n";
}

std::string peakRssLine(int64_t peakBytes, int64_t budgetBytes) {
  return "peak RSS: " + std::to_string(roundUpToMiB(peakBytes)) + " MiB (" +
         (budgetBytes > 0
              ? "budget " + std::to_string(budgetBytes >> 20) + " MiB"
              : std::string("no --memory-budget")) +
         ")\n";
}

Progress::Progress(std::ostream &out, bool enabled, int64_t first, int64_t last)
    : out(out), enabled(enabled), first(first), last(last),
      start(std::chrono::steady_clock::now()) {}

void Progress::clear() {
  if (enabled && drawn)
    out << "\r\033[K";
  drawn = false;
}

void Progress::draw(int64_t step) {
  if (!enabled)
    return;
  double done = double(step - first + 1), total = double(last - first + 1);
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
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

void Progress::finish() {
  if (enabled && drawn)
    out << "\n";
  drawn = false;
}

} // namespace giga::train
