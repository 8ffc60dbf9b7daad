//===- Evaluation.cpp - the validation loss -------------------------------===//
#include "runtime/train/Evaluation.h"

#include "runtime/train/MicroBatch.h"

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

double Evaluation::run(exec::Executor &executor) {
  windows.restore(start);
  const int64_t micro = artifact.microBatch;
  const size_t size = size_t(micro * artifact.sequenceLength);
  std::vector<int32_t> tokens(size), targets(size);
  double sum = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < batches; ++i)
    for (int64_t m = 0; m < artifact.accumulation(); ++m) {
      windows.next(micro, tokens.data(), targets.data());
      sum += evalMicroBatch(executor, tokens.data(), targets.data());
      ++count;
    }
  return sum / double(count);
}

} // namespace giga::train
