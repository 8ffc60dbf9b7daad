//===- Config.h - model and run configuration -------------------*- C++ -*-===//
//
// A config is the JSON form of gigaGPT's YAML: a "model" section (the
// network's shape and init) and a "run" section (batching and optimizer).
// This file depends only on nlohmann/json so the runtime can read the config
// an artifact carries without linking MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_FRONTEND_CONFIG_H
#define GIGA_FRONTEND_CONFIG_H

#include "runtime/support/Error.h"
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace giga {

/// A config that cannot be used; the message names the file, the key and the
/// fix, in one line.
class ConfigError : public giga::Error {
public:
  using Error::Error;
};

struct ModelConfig {
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;
  int64_t depth = 0;
  int64_t width = 0;
  int64_t heads = 0;
  int64_t ffnWidth = 0; // 4 * width unless given
  double initStd = 0.0;
  double layerNormEpsilon = 1e-5;
  bool geluTanh = false; // "gelu": "exact" (default) or "tanh"
  bool rmsNorm = false;  // "norm": "layernorm" (default) or "rmsnorm"

  int64_t headDim() const { return width / heads; }
};

struct RunConfig {
  int64_t batchSize = 0; // over every system
  /// Data-parallel systems (mpirun -np N); each runs batchSize / numSystems.
  int64_t numSystems = 1;
  int64_t sequenceLength = 0;
  int64_t numSteps = 0;
  double learningRate = 0.0;
  int64_t warmupSteps = 0;
  int64_t decaySteps = -1; // numSteps - warmupSteps unless given
  // The cosine ends at minLrRatio x learningRate; 1 keeps it constant.
  double minLrRatio = 0.1;
  std::string optimizer = "adamw";
  double weightDecay = 0.1;
  double maxGradientNorm = 1.0;
  double adamBeta1 = 0.9;
  double adamBeta2 = 0.95;
  double adamEpsilon = 1e-8;
  double momentum = 0.9; // SGD only
  int64_t checkpointSteps = 0;
  int64_t evalInterval = 0;
  int64_t evalSteps = 0;
  uint64_t seed = 0;
};

struct Config {
  std::string name;
  ModelConfig model;
  RunConfig run;

  /// The config with every default filled in, as the artifact stores it.
  nlohmann::json toJson() const;
};

/// Parses and validates a config; `source` names it in error messages.
Config parseConfig(const nlohmann::json &json, const std::string &source);
/// Parses JSON text (reporting line and column of syntax errors) and then
/// the config.
Config parseConfigText(const std::string &text, const std::string &source);
/// Reads, parses and validates the config file at `path`.
Config loadConfig(const std::string &path);

} // namespace giga

#endif // GIGA_FRONTEND_CONFIG_H
