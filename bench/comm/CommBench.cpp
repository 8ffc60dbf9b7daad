//===- CommBench.cpp - the store's collectives against a memory copy ------===//
//
// mpirun -np N giga_comm_bench [--mib M] [--reps R]
//
// Times what a data-parallel step does per tensor (docs/scale-out.md):
// reduceScatterSum of an M MiB gradient and allGather of an M MiB weight,
// through the same comm::MpiWorld the store uses, and a memcpy of M MiB on
// one thread. Reports the median over R runs (after one warm-up) as the
// bytes each rank receives, (N - 1) / N of the tensor, per second: the
// "bus bandwidth" NCCL's tests report, comparable to the copy's.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/MpiCommunicator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

double medianSeconds(int reps, const std::function<void()> &body,
                     giga::comm::Communicator &world) {
  std::vector<double> times;
  for (int rep = 0; rep <= reps; ++rep) {
    world.max(0); // start together
    auto start = std::chrono::steady_clock::now();
    body();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (rep > 0) // the first is a warm-up
      times.push_back(world.max(seconds));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  giga::comm::MpiWorld world(&argc, &argv);
  int64_t mib = 64;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if ((flag == "--mib" || flag == "--reps") && i + 1 < argc) {
      long value = std::strtol(argv[++i], nullptr, 10);
      if (value < 1) {
        std::fprintf(stderr, "giga_comm_bench: %s must be >= 1\n",
                     flag.c_str());
        return 1;
      }
      if (flag == "--mib")
        mib = value;
      else
        reps = int(value);
    } else {
      std::fprintf(
          stderr, "usage: mpirun -np N giga_comm_bench [--mib M] [--reps R]\n");
      return 1;
    }
  }
  const int64_t elements = mib << 18; // floats
  const double bytes = double(elements) * 4;
  const int ranks = world.size();
  std::vector<float> tensor(size_t(elements), 1.0f), copy(tensor.size());
  std::vector<float> shard(size_t(world.shard(elements).count) + 1);

  double reduce = medianSeconds(
      reps,
      [&] { world.reduceScatterSum(tensor.data(), shard.data(), elements); },
      world);
  double gather = medianSeconds(
      reps, [&] { world.allGather(tensor.data(), elements); }, world);
  double memcpySeconds = medianSeconds(
      reps, [&] { std::memcpy(copy.data(), tensor.data(), size_t(bytes)); },
      world);
  if (world.rank() != 0)
    return 0;
  const double moved = bytes * double(ranks - 1) / double(ranks);
  const double copyRate = bytes / memcpySeconds / 1e9;
  std::printf("%d ranks, %lld MiB tensor, median of %d\n", ranks,
              (long long)mib, reps);
  std::printf("memcpy          %8.2f ms  %6.2f GB/s\n", memcpySeconds * 1e3,
              copyRate);
  for (auto [name, seconds] :
       {std::pair<const char *, double>{"reduce-scatter", reduce},
        {"all-gather", gather}}) {
    double rate = moved / seconds / 1e9;
    std::printf("%-15s %8.2f ms  %6.2f GB/s  %3.0f%% of memcpy\n", name,
                seconds * 1e3, rate, 100.0 * rate / copyRate);
  }
  return 0;
}
