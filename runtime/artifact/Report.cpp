//===- Report.cpp - the compiler's cost estimate, readable ----------------===//
#include "runtime/artifact/Report.h"
#include "runtime/artifact/TrainingEntryPoints.h"

#include <algorithm>
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
  out << "batch            " << a.batchSize << " = "
      << (a.systems > 1 ? std::to_string(a.systems) + " systems x " : "")
      << a.accumulation() << " x micro-batch " << a.microBatch << " of "
      << a.sequenceLength << " tokens\n";
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
    if (a.systems > 1)
      out << formatSystemsEstimate(a, totals.value("step_seconds", 0.0));
  }
  return out.str();
}

std::string formatSystemsEstimate(const Artifact &a, double stepSeconds) {
  // Every stream-in of a weight is an all-gather of its shards and every
  // stream-out of a gradient a reduce-scatter; each moves (N - 1) / N of
  // the tensor into or out of a system.
  const EntryPoint *step = a.entryPoint(training::kTrainStep);
  if (!step)
    return "";
  double gathered = 0, reduced = 0;
  for (const Command &command : step->commands) {
    const Kernel &kernel = a.kernels[command.kernel];
    for (const StreamIn &in : kernel.streamIn)
      gathered += 4.0 * double(a.params[in.param].elements() * kernel.layers);
    for (const StreamOut &out : kernel.streamOut)
      reduced += 4.0 * double(a.params[out.param].elements() * kernel.layers);
  }
  const double share = double(a.systems - 1) / double(a.systems);
  const double bytes = (gathered + reduced) * double(a.accumulation()) * share;
  const char *key = a.target.contains("interconnect_bytes_per_sec")
                        ? "interconnect_bytes_per_sec"
                        : "memoryx_bytes_per_sec";
  const double bandwidth = a.target.value(key, 0.0);
  std::ostringstream out;
  out << "systems          " << a.systems << ": each moves "
      << formatBytes(bytes) << " a step in collectives";
  if (bandwidth > 0) {
    const double seconds = bytes / bandwidth;
    char line[160];
    std::snprintf(line, sizeof(line),
                  " (%.4g s at the target's %s = %s/s); step %.4g s with "
                  "them, %.4g s if hidden behind compute\n",
                  seconds, key, formatBytes(bandwidth).c_str(),
                  stepSeconds + seconds, std::max(stepSeconds, seconds));
    out << line;
  } else {
    out << "\n";
  }
  return out.str();
}

} // namespace giga::artifact
