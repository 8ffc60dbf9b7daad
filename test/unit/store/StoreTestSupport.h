//===- StoreTestSupport.h - shared helpers of the store tests ---*- C++ -*-===//
#ifndef GIGA_TEST_UNIT_STORE_STORETESTSUPPORT_H
#define GIGA_TEST_UNIT_STORE_STORETESTSUPPORT_H

#include "runtime/artifact/Artifact.h"
#include "runtime/store/WeightStore.h"
#include "test/unit/TempDir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace giga::store::test {

using giga::test::TempDir;

inline std::string readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

inline void writeFile(const std::string &path, const std::string &contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
}

inline artifact::Parameter param(std::string name, std::vector<int64_t> shape,
                                 std::string init, double std = 0.0,
                                 double weightDecay = 0.0,
                                 std::string group = "", int64_t layers = 1) {
  artifact::Parameter p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.init = std::move(init);
  p.std = std;
  p.weightDecay = weightDecay;
  p.group = std::move(group);
  p.layers = layers;
  return p;
}

/// A small GPT-like parameter table: an embedding, `layers` blocks of a
/// weight, a bias and a layernorm gain, and a final layernorm.
inline artifact::Artifact smallModel(int64_t layers = 3,
                                     const std::string &optimizer = "adamw") {
  artifact::Artifact a;
  a.params.push_back(param("wte.weight", {17, 8}, "normal", 0.02, 0.1));
  a.params.push_back(
      param("mlp.weight", {8, 12}, "normal", 0.02, 0.1, "h", layers));
  a.params.push_back(param("mlp.bias", {12}, "zeros", 0, 0, "h", layers));
  a.params.push_back(param("ln.weight", {8}, "ones", 0, 0, "h", layers));
  a.params.push_back(param("ln_f.weight", {8}, "ones"));
  a.optimizer.kind = optimizer;
  a.optimizer.learningRate = 1e-2;
  a.optimizer.warmupSteps = 2;
  a.optimizer.decaySteps = 10;
  a.optimizer.beta1 = 0.9;
  a.optimizer.beta2 = 0.95;
  a.optimizer.maxGradientNorm = 1.0;
  a.batchSize = 4;
  a.microBatch = 2;
  return a;
}

/// Deterministic pseudo-random gradients, different per (tensor, round).
inline std::vector<float> fakeGrad(int64_t n, uint64_t salt) {
  std::vector<float> g(static_cast<size_t>(n));
  uint64_t x = salt * 0x9E3779B97F4A7C15ull + 1;
  for (float &v : g) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = float(int64_t(x % 2001) - 1000) / 1000.0f;
  }
  return g;
}

/// Adds a round of fake gradients to every tensor of the store.
inline void accumulateRound(WeightStore &store,
                            const artifact::Artifact &artifact,
                            uint64_t round) {
  for (size_t p = 0; p < artifact.params.size(); ++p)
    for (int64_t l = 0; l < artifact.params[p].layers; ++l) {
      std::vector<float> g = fakeGrad(artifact.params[p].elements(),
                                      round * 1000 + p * 100 + uint64_t(l));
      store.accumulateGrad(int32_t(p), l, g.data());
    }
}

/// Runs `f`, expects a StoreError whose message holds every one of `parts`.
inline void expectStoreError(const std::function<void()> &f,
                             const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "expected a StoreError";
  } catch (const StoreError &error) {
    std::string message = error.what();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message: " << message << "\nlacks: " << part;
  }
}

inline std::vector<float> copyOf(const float *data, int64_t n) {
  return std::vector<float>(data, data + n);
}

} // namespace giga::store::test

#endif // GIGA_TEST_UNIT_STORE_STORETESTSUPPORT_H
