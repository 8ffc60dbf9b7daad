//===- BenchSupport.h - what the kernel benches share -----------*- C++ -*-===//
#ifndef GIGA_BENCH_KERNELS_BENCHSUPPORT_H
#define GIGA_BENCH_KERNELS_BENCHSUPPORT_H

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace giga::bench {

/// /proc/cpuinfo's model name, so a figure names its machine.
inline std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

/// n floats uniform in [lo, hi] from `seed`.
inline std::vector<float> randomBuffer(size_t n, float lo = -1.0f,
                                       float hi = 1.0f, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// The median wall time in ms of `reps` calls of fn, after one untimed call
/// (plan creation, page faults).
inline double medianMs(int reps, const std::function<void()> &fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    auto end = std::chrono::steady_clock::now();
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Reads `[--threads N] [--reps N]` into threads and reps; false (after the
/// usage line on stderr) on anything else.
inline bool parseArgs(int argc, char **argv, int &threads, int &reps) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--reps N]\n", argv[0]);
      return false;
    }
  }
  return true;
}

} // namespace giga::bench

#endif // GIGA_BENCH_KERNELS_BENCHSUPPORT_H
