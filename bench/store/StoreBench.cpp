//===- StoreBench.cpp - optimizer-step throughput of the weight store -----===//
//
//   build/bin/giga_store_bench [MEGABYTES]   (default 256 MB of weights)
//
// One AdamW step over every parameter, in RAM, on disk, and on disk within a
// 64 MiB budget: best of three, as ms and GB/s of store touched (weights,
// gradients, m, v).
//
//===----------------------------------------------------------------------===//
#include "runtime/store/WeightStore.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

using namespace giga;

int main(int argc, char **argv) {
  int64_t megabytes = argc > 1 ? std::atoll(argv[1]) : 256;
  if (megabytes < 4) {
    std::cerr << "giga_store_bench: MEGABYTES must be at least 4\n";
    return 1;
  }
  artifact::Artifact a;
  artifact::Parameter w;
  w.name = "w";
  w.group = "h";
  w.layers = megabytes / 4; // 1024 x 1024 fp32 = 4 MB a layer
  w.shape = {1024, 1024};
  w.init = "normal";
  w.std = 0.02;
  w.weightDecay = 0.1;
  a.params.push_back(w);
  a.optimizer.kind = "adamw";
  a.optimizer.learningRate = 1e-3;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "giga-store-bench";
  std::filesystem::remove_all(dir);
  std::vector<float> grad(1024 * 1024, 1e-3f);
  std::cout << "command: " << argv[0] << " " << megabytes << "\n";
  for (int64_t budget : {int64_t(0), int64_t(64) << 20}) {
    for (bool onDisk : {false, true}) {
      if (!onDisk && budget)
        continue;
      store::StoreOptions options;
      if (onDisk)
        options = {dir.string(), budget};
      store::WeightStore store(a, options);
      store.initialize(1);
      double best = 1e30;
      for (int step = 1; step <= 3; ++step) {
        for (int64_t layer = 0; layer < w.layers; ++layer)
          store.accumulateGrad(0, layer, grad.data());
        auto start = std::chrono::steady_clock::now();
        store.applyUpdate(step, 0.5);
        best = std::min(best, std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
      }
      double stateBytes = double(a.parameterCount()) * 16;
      std::cout << (onDisk ? "disk" : "RAM ") << " budget "
                << budget / (1 << 20) << " MiB: " << a.parameterCount() / 1e6
                << " M params, update " << best * 1e3 << " ms, "
                << stateBytes / best / 1e9 << " GB/s of store (w, g, m, v)\n";
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
