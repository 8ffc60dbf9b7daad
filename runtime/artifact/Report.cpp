//===- Report.cpp - the compiler's cost estimate, readable ----------------===//
#include "runtime/artifact/Report.h"

#include <cstdio>
#include <sstream>

namespace giga::artifact {

namespace {
std::string scaled(double value, const char *const *units, double base,
                   int count) {
  int unit = 0;
  while (value >= base && unit + 1 < count) {
    value /= base;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), value >= 100 ? "%.0f%s" : "%.3g%s", value,
                units[unit]);
  return text;
}
} // namespace

std::string formatBytes(double bytes) {
  static const char *const units[] = {" B", " KB", " MB", " GB", " TB", " PB"};
  return scaled(bytes, units, 1000.0, 6);
}

std::string formatCount(double count) {
  static const char *const units[] = {"", " K", " M", " G", " T", " P", " E"};
  return scaled(count, units, 1000.0, 7);
}

std::string formatReport(const Artifact &a) {
  std::ostringstream out;
  const nlohmann::json &report = a.report;
  std::string target = report.value("target", a.target.value("name", "?"));
  char line[256];
  out << "target " << target << ": " << a.target.value("description", "")
      << "\n";
  std::snprintf(line, sizeof(line),
                "%-10s %7s %9s %10s %10s %12s %12s %10s %7s\n", "kernel",
                "layers", "PEs", "SRAM", "FLOPs", "compute cyc", "stream cyc",
                "streamed", "bound");
  out << line;
  for (const nlohmann::json &k :
       report.value("kernels", nlohmann::json::array())) {
    std::snprintf(line, sizeof(line),
                  "%-10s %7lld %9s %10s %10s %12s %12s %10s %7s",
                  k.value("name", "?").c_str(), (long long)k.value("layers", 0),
                  formatCount(k.value("pes", 0.0)).c_str(),
                  formatBytes(k.value("sram_bytes", 0.0)).c_str(),
                  formatCount(k.value("flops", 0.0)).c_str(),
                  formatCount(k.value("compute_cycles", 0.0)).c_str(),
                  formatCount(k.value("stream_cycles", 0.0)).c_str(),
                  formatBytes(k.value("stream_bytes", 0.0)).c_str(),
                  k.value("bound", "?").c_str());
    // An eval-only kernel is not in the step's estimate.
    out << line << (k.value("eval_only", false) ? " (eval only)" : "") << "\n";
  }
  const nlohmann::json totals =
      report.value("totals", nlohmann::json::object());
  out << "parameters       " << formatCount(double(a.parameterCount())) << " ("
      << a.parameterCount() << ", " << formatBytes(a.parameterCount() * 4.0)
      << " fp32 in the store)\n";
  out << "batch            " << a.batchSize << " = " << a.accumulation()
      << " x micro-batch " << a.microBatch << " of " << a.sequenceLength
      << " tokens\n";
  if (totals.contains("activation_bytes"))
    out << "activations      "
        << formatBytes(totals.value("activation_bytes", 0.0))
        << " on the wafer; arena " << formatBytes(double(a.arenaBytes))
        << " with the weight and gradient streams\n";
  else
    out << "activation arena " << formatBytes(double(a.arenaBytes)) << "\n";
  if (totals.contains("step_seconds")) {
    std::snprintf(line, sizeof(line),
                  "estimated step   %.4g s (%s FLOPs), utilisation %.1f%% of "
                  "peak\n",
                  totals.value("step_seconds", 0.0),
                  formatCount(totals.value("step_flops", 0.0)).c_str(),
                  100.0 * totals.value("utilization", 0.0));
    out << line;
  }
  return out.str();
}

} // namespace giga::artifact
