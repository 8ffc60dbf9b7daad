//===- Report.cpp - the compiler's cost estimate, readable ----------------===//
#include "runtime/artifact/Report.h"
#include "runtime/artifact/TrainingEntryPoints.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <type_traits>

namespace giga::artifact {

namespace {
/// object[key] as a T, or `fallback` where the object lacks it or holds
/// another type: the report and the target are informational, and a
/// damaged one must not stop `gigarun inspect`.
template <typename T>
T field(const nlohmann::json &object, const char *key, T fallback) {
  if (!object.is_object())
    return fallback;
  auto found = object.find(key);
  if (found == object.end())
    return fallback;
  if constexpr (std::is_same_v<T, std::string>)
    return found->is_string() ? found->template get<std::string>() : fallback;
  else if constexpr (std::is_same_v<T, bool>)
    return found->is_boolean() ? found->template get<bool>() : fallback;
  else if constexpr (std::is_same_v<T, nlohmann::json>)
    return found->type() == fallback.type() ? *found : fallback;
  else
    return found->is_number() ? found->template get<T>() : fallback;
}

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
  std::string target =
      field(report, "target", field(a.target, "name", std::string("?")));
  char line[256];
  out << "target " << target << ": "
      << field(a.target, "description", std::string()) << "\n";
  std::snprintf(line, sizeof(line),
                "%-10s %7s %9s %10s %10s %12s %12s %10s %7s\n", "kernel",
                "layers", "PEs", "SRAM", "FLOPs", "compute cyc", "stream cyc",
                "streamed", "bound");
  out << line;
  for (const nlohmann::json &k :
       field(report, "kernels", nlohmann::json::array())) {
    std::snprintf(line, sizeof(line),
                  "%-10s %7lld %9s %10s %10s %12s %12s %10s %7s",
                  field(k, "name", std::string("?")).c_str(),
                  (long long)field<int64_t>(k, "layers", 0),
                  formatCount(field(k, "pes", 0.0)).c_str(),
                  formatBytes(field(k, "sram_bytes", 0.0)).c_str(),
                  formatCount(field(k, "flops", 0.0)).c_str(),
                  formatCount(field(k, "compute_cycles", 0.0)).c_str(),
                  formatCount(field(k, "stream_cycles", 0.0)).c_str(),
                  formatBytes(field(k, "stream_bytes", 0.0)).c_str(),
                  field(k, "bound", std::string("?")).c_str());
    // An eval-only kernel is not in the step's estimate.
    out << line << (field(k, "eval_only", false) ? " (eval only)" : "") << "\n";
  }
  const nlohmann::json totals =
      field(report, "totals", nlohmann::json::object());
  out << "parameters       " << formatCount(double(a.parameterCount())) << " ("
      << a.parameterCount() << ", " << formatBytes(a.parameterCount() * 4.0)
      << " fp32 in the store)\n";
  out << "batch            " << a.batchSize << " = "
      << (a.systems > 1 ? std::to_string(a.systems) + " systems x " : "")
      << a.accumulation() << " x micro-batch " << a.microBatch << " of "
      << a.sequenceLength << " tokens\n";
  if (totals.contains("activation_bytes"))
    out << "activations      "
        << formatBytes(field(totals, "activation_bytes", 0.0))
        << " on the wafer; arena " << formatBytes(double(a.arenaBytes))
        << " with the weight and gradient streams\n";
  else
    out << "activation arena " << formatBytes(double(a.arenaBytes)) << "\n";
  if (totals.contains("step_seconds")) {
    std::snprintf(line, sizeof(line),
                  "estimated step   %.4g s (%s FLOPs), utilisation %.1f%% of "
                  "peak\n",
                  field(totals, "step_seconds", 0.0),
                  formatCount(field(totals, "step_flops", 0.0)).c_str(),
                  100.0 * field(totals, "utilization", 0.0));
    out << line;
    if (a.systems > 1)
      out << formatSystemsEstimate(a, field(totals, "step_seconds", 0.0));
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
  const double bandwidth = field(a.target, key, 0.0);
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
