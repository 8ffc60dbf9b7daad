//===- MicroBatch.h - one micro-batch through an entry point ----*- C++ -*-===//
//
// The trainer runs the artifact through its training entry points
// (runtime/artifact/TrainingEntryPoints.h): train_step (forward, loss,
// backward; the gradients are added into the store) and eval_step (forward
// and loss only, leaving the logits), each on [micro_batch, T] i32 tokens
// and targets.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_TRAIN_MICROBATCH_H
#define GIGA_RUNTIME_TRAIN_MICROBATCH_H

#include <cstdint>

namespace giga::exec {
class Executor;
} // namespace giga::exec

namespace giga::train {

/// train_step on one micro-batch; its mean loss.
float trainMicroBatch(exec::Executor &executor, const int32_t *tokens,
                      const int32_t *targets);
/// eval_step on one micro-batch; its mean loss.
float evalMicroBatch(exec::Executor &executor, const int32_t *tokens,
                     const int32_t *targets);

} // namespace giga::train

#endif // GIGA_RUNTIME_TRAIN_MICROBATCH_H
