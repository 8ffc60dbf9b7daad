//===- MicroBatch.cpp - one micro-batch through an entry point ------------===//
#include "runtime/train/MicroBatch.h"

#include "runtime/artifact/TrainingEntryPoints.h"
#include "runtime/exec/Executor.h"

namespace giga::train {

namespace {
float runEntry(exec::Executor &executor, const char *entry,
               const int32_t *tokens, const int32_t *targets) {
  namespace names = artifact::training;
  executor.run(entry, {{names::kTokens, tokens}, {names::kTargets, targets}});
  return *static_cast<const float *>(executor.output(entry, names::kLoss));
}
} // namespace

float trainMicroBatch(exec::Executor &executor, const int32_t *tokens,
                      const int32_t *targets) {
  return runEntry(executor, artifact::training::kTrainStep, tokens, targets);
}

float evalMicroBatch(exec::Executor &executor, const int32_t *tokens,
                     const int32_t *targets) {
  return runEntry(executor, artifact::training::kEvalStep, tokens, targets);
}

} // namespace giga::train
