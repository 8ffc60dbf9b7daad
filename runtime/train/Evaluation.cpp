//===- Evaluation.cpp - the validation loss -------------------------------===//
#include "runtime/train/Evaluation.h"

#include "runtime/train/MicroBatch.h"

#include <algorithm>
#include <vector>

namespace giga::train {

namespace {
/// The validation windows' seed differs from the training windows'.
constexpr uint64_t kValidationSeedMask = 0x5eed5eed5eedull;
} // namespace

Evaluation::Evaluation(const artifact::Artifact &artifact, int64_t vocab,
                       const std::string &path, uint64_t seed, int64_t batches,
                       int64_t interval)
    : artifact(artifact),
      windows(path, artifact.sequenceLength, vocab, seed ^ kValidationSeedMask),
      start(windows.state()), batches(batches), interval(interval) {}

bool Evaluation::due(int64_t step, int64_t lastStep) const {
  return batches > 0 &&
         ((interval > 0 && step % interval == 0) || step == lastStep);
}

double Evaluation::run(exec::Executor &executor, comm::Communicator &systems) {
  windows.restore(start);
  const int64_t micro = artifact.microBatch;
  const size_t size = size_t(micro * artifact.sequenceLength);
  std::vector<int32_t> tokens(size), targets(size);
  const int64_t perSystem = artifact.accumulation();
  const int64_t perBatch = perSystem * artifact.systems;
  double sum = 0;
  for (int64_t i = 0; i < batches; ++i)
    for (int64_t m = 0; m < perBatch; ++m) {
      std::vector<uint64_t> offsets = windows.draw(micro);
      if (m / perSystem != systems.rank())
        continue;
      windows.fill(offsets, tokens.data(), targets.data());
      sum += evalMicroBatch(executor, tokens.data(), targets.data());
    }
  return systems.sum(sum) / double(batches * perBatch);
}

FileLoss evaluateFile(const artifact::Artifact &artifact,
                      exec::Executor &executor, const BatchSampler &file,
                      const std::function<void(int64_t, int64_t)> &progress) {
  const int64_t t = artifact.sequenceLength, micro = artifact.microBatch;
  FileLoss result;
  result.windows = int64_t((file.tokenCount() - 1) / uint64_t(t));
  result.predictions = result.windows * t;
  result.unscoredTokens = int64_t(file.tokenCount() - 1) - result.predictions;
  const int64_t full = result.windows / micro, rest = result.windows % micro;
  const int64_t batches = full + (rest ? 2 : 0);
  std::vector<int32_t> tokens(size_t(micro * t)), targets(tokens.size());
  std::vector<uint64_t> offsets(static_cast<size_t>(micro));
  int64_t done = 0;
  auto runBatch = [&](const std::vector<uint64_t> &windows) {
    file.fill(windows, tokens.data(), targets.data());
    double mean = evalMicroBatch(executor, tokens.data(), targets.data());
    progress(++done, batches);
    return mean;
  };
  // The sum of the micro-batches' means, each over micro windows.
  double sum = 0;
  for (int64_t b = 0; b < full; ++b) {
    for (int64_t i = 0; i < micro; ++i)
      offsets[size_t(i)] = uint64_t((b * micro + i) * t);
    sum += runBatch(offsets);
  }
  if (rest) {
    for (int64_t i = 0; i < micro; ++i)
      offsets[size_t(i)] = i < rest ? uint64_t((full * micro + i) * t) : 0;
    double last = runBatch(offsets);
    std::fill(offsets.begin(), offsets.end(), 0);
    double first = runBatch(offsets); // window 0's loss, micro times
    // last = (rest windows' loss + (micro - rest) * first) / micro
    sum += last - double(micro - rest) / double(micro) * first;
  }
  if (result.windows > 0)
    result.meanLoss = sum * double(micro) / double(result.windows);
  return result;
}

} // namespace giga::train
