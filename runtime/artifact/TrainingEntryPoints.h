//===- TrainingEntryPoints.h - the contract of a training artifact -*- C++
//-*-===//
//
// The entry points gigac gives a training step and gigarun's trainer calls,
// named once: `train_step` (forward, loss, backward; gradients into the
// store) and `eval_step` (forward and loss only, leaving the logits), both
// taking [micro_batch, T] i32 token ids and targets below the vocabulary.
// The executor knows none of this: it runs entry points by name.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_ARTIFACT_TRAININGENTRYPOINTS_H
#define GIGA_RUNTIME_ARTIFACT_TRAININGENTRYPOINTS_H

#include "runtime/artifact/Artifact.h"

namespace giga::artifact::training {

inline constexpr char kTrainStep[] = "train_step";
inline constexpr char kEvalStep[] = "eval_step";
inline constexpr char kTokens[] = "tokens";
inline constexpr char kTargets[] = "targets";
inline constexpr char kLoss[] = "loss";
inline constexpr char kLogits[] = "logits";

/// train_step runs every kernel but the eval-only ones (`evalOnly[k]`), and
/// gives `trainLoss` (-1: `loss`); eval_step runs the kernels that are not
/// backward and gives `loss`. A fused loss's gradient computes the loss too,
/// so train_step skips the forward op's kernel. `vocab` bounds the tokens
/// and the targets; `logits` may be -1 (none).
std::vector<EntryPoint> entryPoints(const Artifact &artifact, int32_t tokens,
                                    int32_t targets, int32_t loss,
                                    int32_t logits, int64_t vocab,
                                    int32_t trainLoss = -1,
                                    const std::vector<bool> &evalOnly = {});

/// The artifact's train_step and eval_step, checked to take tokens and
/// targets of one i32 shape with one range and to give an f32 scalar loss;
/// throws ArtifactError naming `source` and what is missing.
struct Contract {
  const EntryPoint *train = nullptr, *eval = nullptr;
  int64_t vocab = 0;          // the range of tokens and targets
  std::vector<int64_t> shape; // [micro_batch, T] of tokens and targets
  int32_t logits = -1;        // eval_step's logits buffer, -1 if none
};
Contract contract(const Artifact &artifact, const std::string &source);

} // namespace giga::artifact::training

#endif // GIGA_RUNTIME_ARTIFACT_TRAININGENTRYPOINTS_H
