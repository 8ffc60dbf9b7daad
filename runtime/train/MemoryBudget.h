//===- MemoryBudget.h - --memory-budget for the whole process ---*- C++ -*-===//
//
// --memory-budget bounds the peak resident memory of the whole process. What
// the process holds besides the weight store is what it holds before the
// store and the executor are built plus the activation arena the compiler
// planned (artifact.arenaBytes), and the store gets the rest: a disk store
// as its own budget, a RAM store only if it fits whole. docs/gigarun.md,
// "Memory budget".
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_MEMORYBUDGET_H
#define GIGA_RUNTIME_TRAIN_MEMORYBUDGET_H

#include "runtime/artifact/Artifact.h"
#include "runtime/train/TrainOptions.h"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace giga::train {

/// "512M", "2G", "1.5g", "64KiB", "1000000" (bytes; K/M/G/T are powers of
/// 1024) into bytes. Throws TrainError naming `flag` for anything else.
int64_t parseByteSize(const std::string &text,
                      const std::string &flag = "--memory-budget");

/// This process's resident memory from /proc/self/status: VmRSS now and
/// VmHWM, its peak so far (both 0 where /proc is unavailable).
struct ProcessMemory {
  int64_t rssBytes = 0;
  int64_t peakBytes = 0;
};
ProcessMemory readProcessMemory();

/// What --memory-budget leaves to a disk store once the rest of the process
/// holds `baselineBytes`: budget − baseline − a reserve for the heap and
/// the kernel's fault-around (docs/gigarun.md). Throws TrainError with the
/// numbers if that is not enough for the store to keep `largestTensorBytes`
/// resident plus its streaming chunks.
int64_t storeBudgetFor(int64_t budgetBytes, int64_t baselineBytes,
                       int64_t largestTensorBytes);

/// Without --store, a RAM store larger than --memory-budget alone cannot
/// fit: throws TrainError before anything is built.
void checkRamStoreFits(const artifact::Artifact &artifact,
                       const TrainOptions &options);

/// The weight store's own budget under --memory-budget: predicts the
/// process without the store, then gives a disk store the rest
/// (storeBudgetFor), or checks that the RAM store fits with the rest
/// (TrainError if not), and logs the split. 0 without a budget (nothing
/// is predicted) or without --store.
int64_t planStoreBudget(const artifact::Artifact &artifact,
                        const TrainOptions &options, std::ostream &log);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_MEMORYBUDGET_H
