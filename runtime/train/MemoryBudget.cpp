//===- MemoryBudget.cpp - --memory-budget: the whole process's RSS --------===//
#include "runtime/train/MemoryBudget.h"

#include "runtime/store/WeightStore.h"
#include "runtime/train/Log.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <set>
#include <vector>

namespace giga::train {

namespace {

/// Bytes of --memory-budget kept back from the store for what the baseline
/// does not see: the executor's tables and oneDNN's primitives (made as the
/// executor is built) and scratchpads (at the first run), the streamer's
/// stack, and the kernel's fault-around,
/// which may map up to 64 KiB of cached neighbours per fault before the
/// store drops them (docs/store.md). Measured slack is a few MiB
/// (test/e2e/gigarun-memory-budget.sh).
constexpr int64_t kBudgetReserve = int64_t(16) << 20;

/// The factor of a size suffix ("", "K", "MiB", "gb", ...), 0 if unknown.
double unitScale(std::string unit) {
  for (char &c : unit)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B')
    unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'I')
    unit.pop_back();
  const char *units[] = {"", "K", "M", "G", "T"};
  double scale = 1;
  for (const char *known : units) {
    if (unit == known)
      return scale;
    scale *= 1024.0;
  }
  return 0;
}

/// Bytes the process will hold besides the store: what it holds now (the
/// program, its libraries, the data read so far) and the executor's
/// activation arena, which the compiler planned whole (kernel scratch
/// included) and the executor zeroes. The executor's own tables and
/// oneDNN's primitives are small and in kBudgetReserve.
/// What bf16 matmuls hold besides: each matmul plan keeps the bf16 copy of
/// its operands (kernels::MatmulOperand), and a weight is an operand of two
/// plans (the product and the input gradient), one per distinct shape.
int64_t bf16OperandBytes(const artifact::Artifact &artifact,
                         kernels::MatmulPrecision precision) {
  if (precision != kernels::MatmulPrecision::Bf16)
    return 0;
  std::set<std::vector<int64_t>> shapes;
  for (const artifact::Parameter &param : artifact.params)
    if (param.shape.size() == 2)
      shapes.insert(param.shape);
  int64_t bytes = 0;
  for (const std::vector<int64_t> &shape : shapes)
    bytes += 2 * (shape[0] * shape[1] * 2);
  return bytes;
}

int64_t predictBaseline(const artifact::Artifact &artifact,
                        kernels::MatmulPrecision precision) {
  return readProcessMemory().rssBytes + artifact.arenaBytes +
         bf16OperandBytes(artifact, precision);
}

} // namespace

int64_t parseByteSize(const std::string &text, const std::string &flag) {
  auto fail = [&]() -> int64_t {
    throw TrainError(flag + " '" + text +
                     "' is not a size; write a number of bytes with an "
                     "optional K, M, G or T suffix (powers of 1024), e.g. "
                     "512M or 2G");
  };
  size_t end = 0;
  while (
      end < text.size() &&
      (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
    ++end;
  if (end == 0 || std::count(text.begin(), text.begin() + end, '.') > 1 ||
      text[0] == '.')
    return fail();
  double number = std::strtod(text.substr(0, end).c_str(), nullptr);
  double scale = unitScale(text.substr(end));
  if (scale == 0)
    return fail();
  double bytes = number * scale;
  if (!(bytes >= 1) || bytes > 9.0e18)
    throw TrainError(flag + " '" + text +
                     "' is out of range; give a positive size such as 512M");
  return int64_t(bytes);
}

ProcessMemory readProcessMemory() {
  ProcessMemory memory;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    // "VmRSS:     1234 kB"
    int64_t *field = line.rfind("VmRSS:", 0) == 0   ? &memory.rssBytes
                     : line.rfind("VmHWM:", 0) == 0 ? &memory.peakBytes
                                                    : nullptr;
    if (field)
      *field = std::atoll(line.c_str() + 6) * 1024;
  }
  return memory;
}

int64_t storeBudgetFor(int64_t budgetBytes, int64_t baselineBytes,
                       int64_t largestTensorBytes) {
  using store::storeChunkReserve;
  int64_t storeBudget = budgetBytes - baselineBytes - kBudgetReserve;
  if (storeBudget >= largestTensorBytes + storeChunkReserve(storeBudget))
    return storeBudget;
  // The smallest store budget that holds the largest tensor and the chunks
  // (which grow with the budget, up to 8 x 4 MiB): a short fixpoint.
  int64_t minimum = largestTensorBytes + storeChunkReserve(largestTensorBytes);
  while (minimum - storeChunkReserve(minimum) < largestTensorBytes)
    minimum = largestTensorBytes + storeChunkReserve(minimum);
  int64_t enough = baselineBytes + kBudgetReserve + minimum;
  throw TrainError(
      "--memory-budget " + humanBytes(double(budgetBytes)) +
      " is too small: the process holds " + humanBytes(double(baselineBytes)) +
      " before the weight store (the program, its libraries, the data, "
      "the executor's activation arena and, with bf16 matmuls, the bf16 "
      "copies of their weights), " +
      humanBytes(double(kBudgetReserve)) +
      " are reserved for the heap, and the store needs at least " +
      humanBytes(double(minimum)) + " (its largest tensor, " +
      humanBytes(double(largestTensorBytes)) +
      ", resident while a kernel reads it, plus its streaming chunks); "
      "raise --memory-budget to at least " +
      std::to_string(roundUpToMiB(enough)) + "M");
}

void checkRamStoreFits(const artifact::Artifact &artifact,
                       const TrainOptions &options) {
  if (options.memoryBudget <= 0 || !options.storeDir.empty())
    return;
  // With the rest of the process it is checked again in planStoreBudget.
  double need = 4.0 * store::storeArrays(artifact.optimizer) *
                double(artifact.parameterCount());
  if (need > double(options.memoryBudget))
    throw TrainError("--memory-budget " + humanBytes(options.memoryBudget) +
                     ": the weight store of " + options.artifactPath +
                     " needs " + humanBytes(need) +
                     " in RAM; also pass --store DIR to keep it on disk");
}

int64_t planStoreBudget(const artifact::Artifact &artifact,
                        const TrainOptions &options, std::ostream &log) {
  if (options.memoryBudget <= 0)
    return 0;
  const int64_t baseline = predictBaseline(artifact, options.precision);
  const store::StoreSize size = store::storeSize(artifact);
  const double budget = double(options.memoryBudget);
  int64_t storeBudget = 0;
  if (options.storeDir.empty()) {
    if (baseline + size.bytes + kBudgetReserve > options.memoryBudget)
      throw TrainError(
          "--memory-budget " + humanBytes(budget) + ": the weight store of " +
          options.artifactPath + " needs " + humanBytes(double(size.bytes)) +
          " in RAM on top of the " + humanBytes(double(baseline)) +
          " the rest of the process holds; pass --store DIR to keep the "
          "store on disk, or raise --memory-budget");
  } else {
    storeBudget =
        storeBudgetFor(options.memoryBudget, baseline, size.largestTensorBytes);
  }
  if (!options.quiet)
    log << "gigarun: --memory-budget " << humanBytes(budget) << ": "
        << humanBytes(double(baseline)) << " resident before the store, "
        << (options.storeDir.empty()
                ? humanBytes(double(size.bytes)) + " RAM store"
                : humanBytes(double(storeBudget)) + " for the store in " +
                      options.storeDir)
        << "\n";
  return storeBudget;
}

} // namespace giga::train
