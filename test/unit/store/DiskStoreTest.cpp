//===- DiskStoreTest.cpp - the store in files, within a memory budget -----===//

#include "StoreTestSupport.h"
#include "runtime/kernels/Bf16.h"

#include <chrono>
#include <cmath>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace giga::store::test {
namespace {

/// A field of /proc/self/status in bytes ("VmRSS", "VmHWM").
int64_t procStatus(const std::string &key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::stoll(line.substr(key.size() + 1)) * 1024;
  ADD_FAILURE() << key << " is not in /proc/self/status";
  return 0;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0).
void resetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

/// About 17 MiB of weights, 68 MiB of store with AdamW: 1 MiB tensors.
artifact::Artifact mediumModel() {
  artifact::Artifact a;
  a.params.push_back(param("wte.weight", {1024, 256}, "normal", 0.02, 0.1));
  a.params.push_back(
      param("mlp.fc.weight", {256, 1024}, "normal", 0.02, 0.1, "h", 8));
  a.params.push_back(param("mlp.fc.bias", {1024}, "zeros", 0, 0, "h", 8));
  a.params.push_back(
      param("mlp.proj.weight", {1024, 256}, "normal", 0.02, 0.1, "h", 8));
  a.params.push_back(param("ln.weight", {256}, "ones", 0, 0, "h", 8));
  a.optimizer.kind = "adamw";
  a.optimizer.learningRate = 1e-3;
  a.optimizer.warmupSteps = 1;
  a.optimizer.decaySteps = 10;
  a.optimizer.maxGradientNorm = 1.0;
  return a;
}

int64_t storeBytes(const artifact::Artifact &a) {
  return a.parameterCount() * 4 * 4; // weights, grads, m, v
}

/// What a training run asks of the store: init, two steps of two
/// micro-batches (weights streamed forward with prefetch, gradients
/// streamed back in reverse), the update, a checkpoint and a resume.
/// Returns a checksum of the weights read.
double workload(WeightStore &store, const artifact::Artifact &a,
                const std::string &checkpoint, std::vector<float> &grad) {
  std::vector<std::pair<int32_t, int64_t>> order;
  for (size_t p = 0; p < a.params.size(); ++p)
    for (int64_t l = 0; l < a.params[p].layers; ++l)
      order.emplace_back(int32_t(p), l);
  double checksum = 0;
  store.initialize(11);
  for (int step = 1; step <= 2; ++step) {
    for (int micro = 0; micro < 2; ++micro) {
      for (size_t i = 0; i < order.size(); ++i) {
        if (i + 1 < order.size())
          store.prefetch(order[i + 1].first, order[i + 1].second);
        const float *w = store.weights(order[i].first, order[i].second);
        int64_t n = a.params[order[i].first].elements();
        for (int64_t k = 0; k < n; ++k)
          checksum += w[k];
      }
      for (size_t i = order.size(); i-- > 0;) {
        int64_t n = a.params[order[i].first].elements();
        for (int64_t k = 0; k < n; ++k)
          grad[k] = 1e-3f * float((k + i + micro) % 7) - 3e-3f;
        store.accumulateGrad(order[i].first, order[i].second, grad.data());
      }
    }
    store.applyUpdate(step, 0.5);
  }
  store.save(checkpoint, {{"step", 2}});
  store.load(checkpoint, true);
  return checksum;
}

TEST(DiskStore, ResidentMemoryStaysWithinTheBudget) {
  TempDir dir;
  artifact::Artifact a = mediumModel();
  const int64_t budget = int64_t(6) << 20;
  ASSERT_GT(storeBytes(a), 10 * budget);
  std::vector<float> grad(1024 * 256, 1.0f); // resident before the baseline

  auto peakGrowth = [&](const StoreOptions &options) {
    WeightStore store(a, options);
    resetPeakRss();
    int64_t baseline = procStatus("VmRSS");
    workload(store, a, dir.path("ck.safetensors"), grad);
    return procStatus("VmHWM") - baseline;
  };
  // The control: the same store without a budget grows by about the whole
  // store, so the measurement does see store pages.
  int64_t unbounded = peakGrowth({dir.path("free"), 0});
  int64_t bounded = peakGrowth({dir.path("bounded"), budget});
  EXPECT_GT(unbounded, 4 * budget)
      << "without a budget the store's pages stay mapped";
  // Slack for the heap (the checkpoint header, strings) and the kernel's
  // fault-around, which maps up to 64 KiB of cached neighbours per fault.
  const int64_t slack = int64_t(1) << 20;
  EXPECT_LE(bounded, budget + slack)
      << "peak RSS growth " << bounded / 1024 << " KiB, budget "
      << budget / 1024 << " KiB (unbounded: " << unbounded / 1024 << " KiB)";
  std::cout << "[ store    ] " << storeBytes(a) / 1024
            << " KiB store; peak RSS "
            << "growth " << bounded / 1024 << " KiB with a " << budget / 1024
            << " KiB budget, " << unbounded / 1024 << " KiB without\n";
}

/// Page faults of this process (all threads) while `f` runs.
int64_t faultsDuring(const std::function<void()> &f) {
  auto faults = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return int64_t(usage.ru_minflt + usage.ru_majflt);
  };
  int64_t before = faults();
  f();
  return faults() - before;
}

TEST(DiskStore, AStoreThatFitsItsBudgetStaysMapped) {
  TempDir dir;
  artifact::Artifact a = mediumModel();
  // Reads every weight, as a forward pass does, after a step.
  auto forwardFaults = [&](WeightStore &store) {
    store.initialize(3);
    accumulateRound(store, a, 1);
    store.applyUpdate(1, 1.0);
    return faultsDuring([&] {
      double sum = 0;
      for (size_t p = 0; p < a.params.size(); ++p)
        for (int64_t l = 0; l < a.params[p].layers; ++l) {
          const float *w = store.weights(int32_t(p), l);
          for (int64_t k = 0; k < a.params[p].elements(); ++k)
            sum += w[k];
        }
      EXPECT_TRUE(std::isfinite(sum));
    });
  };
  const int64_t weightPages = a.parameterCount() * 4 / 4096;
  // The control: under a budget a tenth of the store, the weights were
  // dropped and fault back in (at most 16 pages a fault: fault-around).
  WeightStore streamed(a, {dir.path("streamed"), int64_t(6) << 20});
  EXPECT_GT(forwardFaults(streamed), weightPages / 16);
  // Twice the store: nothing to drop, so nothing faults back.
  WeightStore fitting(a, {dir.path("fitting"), 2 * storeBytes(a)});
  EXPECT_LT(forwardFaults(fitting), weightPages / 100);
}

TEST(DiskStore, SameNumbersAsTheRamStore) {
  TempDir dir;
  artifact::Artifact a = mediumModel();
  std::vector<float> grad(1024 * 256);
  WeightStore ram(a, {});
  WeightStore disk(a, {dir.path("store"), int64_t(6) << 20});
  double ramSum = workload(ram, a, dir.path("ram.safetensors"), grad);
  double diskSum = workload(disk, a, dir.path("disk.safetensors"), grad);
  EXPECT_EQ(ramSum, diskSum);
  EXPECT_EQ(readFile(dir.path("ram.safetensors")),
            readFile(dir.path("disk.safetensors")));
  // Continue after the load: still identical.
  for (WeightStore *store : {&ram, &disk}) {
    accumulateRound(*store, a, 5);
    store->applyUpdate(3, 1.0);
  }
  for (int64_t l = 0; l < 8; ++l)
    EXPECT_EQ(copyOf(ram.weights(3, l), 1024 * 256),
              copyOf(disk.weights(3, l), 1024 * 256));
  EXPECT_EQ(copyOf(ram.grad(1, 7), 1024 * 256),
            copyOf(disk.grad(1, 7), 1024 * 256));
}

/// The norm the store reports is that of its gradients as they stand, though
/// it keeps each tensor's sum of squares as gradients are added rather than
/// reading them again: after two additions to a tensor, none to another, a
/// zeroGrads, a scaled step and the zeroing of the last update. In RAM, in
/// files under a budget (4 MiB chunks), and in tmpfs, which cannot zero a
/// range, so that each chunk's gradients are zeroed behind its update.
TEST(DiskStore, TheNormIsOfTheGradientsAsTheyStand) {
  TempDir dir;
  artifact::Artifact a = mediumModel();
  std::vector<std::pair<std::string, StoreOptions>> stores = {
      {"RAM", {}}, {"disk", {dir.path("disk"), int64_t(6) << 20}}};
  std::unique_ptr<TempDir> shm;
  if (std::filesystem::is_directory("/dev/shm") &&
      ::access("/dev/shm", W_OK) == 0) {
    shm = std::make_unique<TempDir>("/dev/shm");
    stores.push_back({"tmpfs", {shm->path("store"), 0}});
  }
  auto normOfGrads = [&](WeightStore &store, double scale) {
    double sum = 0;
    for (size_t p = 0; p < a.params.size(); ++p)
      for (int64_t l = 0; l < a.params[p].layers; ++l) {
        const float *g = store.grad(int32_t(p), l);
        for (int64_t k = 0; k < a.params[p].elements(); ++k) {
          float x = float(scale) * g[k]; // the store's materialized scaling
          sum += double(x) * x;
        }
      }
    return std::sqrt(sum);
  };
  std::vector<std::vector<float>> finalWeights;
  for (auto &[name, options] : stores) {
    SCOPED_TRACE(name);
    WeightStore store(a, options);
    store.initialize(5);
    int step = 0;
    auto expectNorm = [&](double scale) {
      const double expected = normOfGrads(store, scale);
      const UpdateStats stats = store.applyUpdate(++step, scale);
      // Summed in another order: a double sum of n = 4.5 M terms is within
      // n * 2^-53 = 5e-10 of any other. A tensor's stale or missing sum
      // would be off by more than 1e-3.
      EXPECT_NEAR(stats.gradNorm, expected, 1e-9 * expected) << "step " << step;
      for (int64_t l : {0, 7})
        for (float x : copyOf(store.grad(1, l), 256 * 1024))
          ASSERT_EQ(x, 0.0f) << "gradients left after step " << step;
    };
    accumulateRound(store, a, 1);
    accumulateRound(store, a, 2);
    expectNorm(1.0);
    // Only some tensors: the others' sums are of zeroed gradients.
    std::vector<float> g = fakeGrad(256 * 1024, 3);
    store.accumulateGrad(1, 3, g.data());
    store.accumulateGrad(0, 0, g.data());
    expectNorm(1.0);
    accumulateRound(store, a, 4);
    store.zeroGrads();
    store.accumulateGrad(3, 5, g.data());
    expectNorm(1.0);
    accumulateRound(store, a, 5);
    accumulateRound(store, a, 6);
    expectNorm(0.5);
    finalWeights.push_back(copyOf(store.weights(1, 3), 256 * 1024));
  }
  for (size_t i = 1; i < finalWeights.size(); ++i)
    EXPECT_EQ(finalWeights[i], finalWeights[0]) << stores[i].first;
}

/// Every weight's bf16 copy is the weight rounded, in RAM and on a disk store
/// whose budget evicts the copies too, after init, updates and a load.
TEST(DiskStore, Bf16CopiesFollowTheWeights) {
  TempDir dir;
  artifact::Artifact a = mediumModel();
  WeightStore ram(a, {"", 0, /*bf16Copies=*/true});
  WeightStore disk(a, {dir.path("store"), int64_t(6) << 20, true});
  WeightStore without(a, {});
  without.initialize(3);
  EXPECT_EQ(without.weightsBf16(1, 0), nullptr);
  auto expectCopies = [&](WeightStore &store, const char *when) {
    for (size_t p = 0; p < a.params.size(); ++p)
      for (int64_t l = 0; l < a.params[p].layers; ++l) {
        int64_t n = a.params[p].elements();
        std::vector<float> w = copyOf(store.weights(int32_t(p), l), n);
        const uint16_t *copy = store.weightsBf16(int32_t(p), l);
        ASSERT_NE(copy, nullptr);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(copy[i], kernels::toBf16(w[i]))
              << when << ": " << a.params[p].fullName(l) << " element " << i;
      }
  };
  for (WeightStore *store : {&ram, &disk}) {
    store->initialize(3);
    expectCopies(*store, "after initialize");
    accumulateRound(*store, a, 1);
    store->applyUpdate(1, 1.0);
    expectCopies(*store, "after an update");
  }
  without.save(dir.path("fresh.safetensors"), nlohmann::json::object());
  for (WeightStore *store : {&ram, &disk}) {
    store->load(dir.path("fresh.safetensors"), false);
    expectCopies(*store, "after a load");
  }
}

TEST(DiskStore, ConcurrentPrefetchReaderSeesCorrectValues) {
  // The executor's streamer reads the next layer's weights while the main
  // thread adds gradients; a tight budget makes them evict each other.
  TempDir dir;
  artifact::Artifact a = mediumModel();
  WeightStore ram(a, {});
  WeightStore disk(a, {dir.path("store"), int64_t(3) << 20});
  ram.initialize(4);
  disk.initialize(4);
  std::vector<float> grad(1024 * 256, 0.25f);
  bool same = true;
  std::thread streamer([&] {
    for (int round = 0; round < 3; ++round)
      for (int64_t l = 0; l < 8; ++l) {
        disk.prefetch(1, l);
        const float *w = disk.weights(1, l);
        const float *expected = ram.weights(1, l);
        same = same && std::equal(w, w + 256 * 1024, expected);
      }
  });
  for (int round = 0; round < 3; ++round)
    for (int64_t l = 0; l < 8; ++l)
      disk.accumulateGrad(3, l, grad.data());
  streamer.join();
  EXPECT_TRUE(same);
  for (float g : copyOf(disk.grad(3, 5), 1024 * 256))
    ASSERT_EQ(g, 0.75f);
}

TEST(DiskStore, BudgetBelowTheLargestTensorIsAClearError) {
  TempDir dir;
  expectStoreError(
      [&] {
        WeightStore store(mediumModel(), {dir.path("s"), 1 << 20});
      },
      {"memory budget", "--memory-budget", "largest tensor"});
}

TEST(DiskStore, OneStorePerDirectoryAndFilesRemovedAfter) {
  TempDir dir;
  artifact::Artifact a = smallModel(2);
  {
    WeightStore first(a, {dir.path("s"), 0});
    EXPECT_TRUE(std::filesystem::exists(dir.path("s/weights.f32")));
    expectStoreError(
        [&] {
          WeightStore second(a, {dir.path("s"), 0});
        },
        {dir.path("s"), "in use"});
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path("s")));
}

TEST(DiskStore, UnwritableDirectoryIsAnError) {
  expectStoreError(
      [&] {
        WeightStore store(smallModel(1), {"/proc/giga-store", 0});
      },
      {"/proc/giga-store"});
}

/// Not run by default: `giga_store_test --gtest_also_run_disabled_tests
/// --gtest_filter='*Throughput*'`. GIGA_STORE_BENCH_MB sets the weights'
/// size (default 256 MiB: 1 GiB of AdamW store).
} // namespace
} // namespace giga::store::test
