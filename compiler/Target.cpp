//===- Target.cpp - wafer target descriptions -----------------------------===//
#include "compiler/Target.h"
#include "frontend/Config.h"
#include "runtime/support/Json.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace giga {
namespace {

// configs/wafers/*.json, embedded at build time (see CMakeLists.txt).
const std::map<std::string, std::string> &builtinTargets() {
  static const std::map<std::string, std::string> targets = {
#include "compiler/BuiltinTargets.inc"
  };
  return targets;
}

} // namespace

Target parseTarget(const std::string &text, const std::string &source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error &error) {
    throw ConfigError(source + ": invalid JSON: " + error.what());
  } catch (const nlohmann::json::out_of_range &error) {
    std::string what = error.what();
    size_t at = what.find("] "); // after nlohmann's "[json.exception...]"
    throw ConfigError(source + ": " +
                      (at == std::string::npos ? what : what.substr(at + 2)) +
                      "; numbers must fit in a double (about 1.8e308)");
  }
  if (auto key = duplicateJsonKey(text))
    throw ConfigError(source + ": " + *key + ": appears twice; keep one");
  if (!json.is_object())
    throw ConfigError(source + ": a wafer target must be a JSON object");
  static const std::vector<std::string> known = {"name",
                                                 "description",
                                                 "pe_rows",
                                                 "pe_cols",
                                                 "sram_per_pe_bytes",
                                                 "clock_hz",
                                                 "flops_per_cycle_per_pe",
                                                 "memoryx_bytes_per_sec",
                                                 "utilization",
                                                 "loss_chunk",
                                                 "loss_fusion_max_width"};
  for (const auto &[key, value] : json.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw ConfigError(source + ": " + key +
                        ": unknown key; known keys: name, description, "
                        "pe_rows, pe_cols, sram_per_pe_bytes, clock_hz, "
                        "flops_per_cycle_per_pe, memoryx_bytes_per_sec, "
                        "utilization, loss_chunk, loss_fusion_max_width");
  auto number = [&](const char *key) {
    if (!json.contains(key))
      throw ConfigError(source + ": " + key + ": is required but missing");
    const nlohmann::json &value = json[key];
    if (!value.is_number() || !(value.get<double>() > 0))
      throw ConfigError(source + ": " + key +
                        ": must be a positive number, got " + value.dump());
    return value.get<double>();
  };
  auto integer = [&](const char *key) {
    double value = number(key);
    // Compared before converting: a double past 2^63 has no int64_t.
    if (value >= 0x1p63 || value != std::floor(value))
      throw ConfigError(source + ": " + key +
                        ": must be an integer below 2^63");
    return int64_t(value);
  };
  Target target;
  if (!json.contains("name") || !json["name"].is_string())
    throw ConfigError(source + ": name: is required and must be a string");
  target.name = json["name"].get<std::string>();
  if (json.contains("description") && !json["description"].is_string())
    throw ConfigError(source + ": description: must be a string, got " +
                      json["description"].dump());
  target.description = json.value("description", "");
  target.peRows = integer("pe_rows");
  target.peCols = integer("pe_cols");
  target.sramPerPeBytes = integer("sram_per_pe_bytes");
  // pes() and memoryBytes() multiply these: bounded far past any wafer so
  // that no product overflows.
  const double pes = double(target.peRows) * double(target.peCols);
  if (pes > 0x1p40)
    throw ConfigError(source + ": pe_rows x pe_cols: " + std::to_string(pes) +
                      " PEs is past giga's bound of 2^40");
  if (pes * double(target.sramPerPeBytes) > 0x1p60)
    throw ConfigError(source +
                      ": sram_per_pe_bytes: the wafer's SRAM (PEs x "
                      "sram_per_pe_bytes) is past giga's bound of 2^60 bytes");
  target.clockHz = number("clock_hz");
  target.flopsPerCyclePerPe = number("flops_per_cycle_per_pe");
  target.memoryxBytesPerSec = number("memoryx_bytes_per_sec");
  target.utilization = number("utilization");
  if (target.utilization > 1.0)
    throw ConfigError(source + ": utilization: must be at most 1, got " +
                      std::to_string(target.utilization));
  auto count = [&](const char *key, const char *zero, int64_t &field) {
    if (!json.contains(key))
      return;
    const nlohmann::json &value = json[key];
    if (!value.is_number_integer() || value.get<int64_t>() < 0)
      throw ConfigError(source + ": " + key + ": must be an integer >= 0 (0 " +
                        zero + "), got " + value.dump());
    field = value.get<int64_t>();
  };
  count("loss_chunk", "keeps the head and the loss apart", target.lossChunk);
  count("loss_fusion_max_width", "fuses any width", target.lossFusionMaxWidth);
  return target;
}

nlohmann::json Target::toJson() const {
  return {{"name", name},
          {"description", description},
          {"pe_rows", peRows},
          {"pe_cols", peCols},
          {"sram_per_pe_bytes", sramPerPeBytes},
          {"clock_hz", clockHz},
          {"flops_per_cycle_per_pe", flopsPerCyclePerPe},
          {"memoryx_bytes_per_sec", memoryxBytesPerSec},
          {"utilization", utilization},
          {"loss_chunk", lossChunk},
          {"loss_fusion_max_width", lossFusionMaxWidth}};
}

std::vector<std::string> builtinTargetNames() {
  std::vector<std::string> names;
  for (const auto &[name, text] : builtinTargets())
    names.push_back(name);
  return names;
}

Target loadTarget(const std::string &nameOrPath) {
  auto builtin = builtinTargets().find(nameOrPath);
  if (builtin != builtinTargets().end())
    return parseTarget(builtin->second,
                       "configs/wafers/" + nameOrPath + ".json");
  std::ifstream file(nameOrPath);
  if (!file) {
    std::string names;
    for (const std::string &name : builtinTargetNames())
      names += (names.empty() ? "" : ", ") + name;
    throw ConfigError(nameOrPath + ": no such wafer target; use one of " +
                      names + " or the path of a target JSON file");
  }
  std::stringstream text;
  text << file.rdbuf();
  return parseTarget(text.str(), nameOrPath);
}

} // namespace giga
