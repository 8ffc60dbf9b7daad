//===- TrainingEntryPoints.cpp - the contract of a training artifact ------===//
#include "runtime/artifact/TrainingEntryPoints.h"

namespace giga::artifact::training {

std::vector<EntryPoint> entryPoints(const Artifact &artifact, int32_t tokens,
                                    int32_t targets, int32_t loss,
                                    int32_t logits, int64_t vocab,
                                    int32_t trainLoss,
                                    const std::vector<bool> &evalOnly) {
  EntryPoint train, eval;
  train.name = kTrainStep;
  eval.name = kEvalStep;
  train.inputs =
      eval.inputs = {{kTokens, tokens, vocab}, {kTargets, targets, vocab}};
  train.outputs = {{kLoss, trainLoss >= 0 ? trainLoss : loss, 0}};
  eval.outputs = {{kLoss, loss, 0}};
  if (logits >= 0)
    eval.outputs.push_back({kLogits, logits, 0});
  for (int32_t k = 0; k < int32_t(artifact.kernels.size()); ++k) {
    if (size_t(k) >= evalOnly.size() || !evalOnly[k])
      train.commands.push_back({Command::Kind::Invoke, k});
    if (!artifact.kernels[k].backward)
      eval.commands.push_back({Command::Kind::Invoke, k});
  }
  return {train, eval};
}

Contract contract(const Artifact &artifact, const std::string &source) {
  auto fail = [&](const std::string &message) {
    throw ArtifactError(source + ": " + message +
                        "; recompile it with gigac compile CONFIG");
  };
  Contract c;
  c.train = artifact.entryPoint(kTrainStep);
  c.eval = artifact.entryPoint(kEvalStep);
  if (!c.train || !c.eval)
    fail(std::string("is not a training artifact: it needs entry points '") +
         kTrainStep + "' and '" + kEvalStep + "'");
  for (const EntryPoint *entry : {c.train, c.eval}) {
    for (const char *name : {kTokens, kTargets}) {
      const Binding *input = entry->input(name);
      if (!input)
        fail(entry->name + " has no input '" + name + "'");
      const Buffer &b = artifact.buffers[input->buffer];
      if (b.type.dtype != DType::I32 || b.type.shape.size() != 2 ||
          input->limit < 1)
        fail(entry->name + " input '" + name +
             "' must be [micro_batch, T] i32 ids with a range");
      if (c.shape.empty()) {
        c.shape = b.type.shape;
        c.vocab = input->limit;
      } else if (b.type.shape != c.shape || input->limit != c.vocab) {
        fail(entry->name + " input '" + name +
             "' differs in shape or range from train_step's tokens");
      }
    }
    const Binding *loss = entry->output(kLoss);
    if (!loss || artifact.buffers[loss->buffer].type.dtype != DType::F32 ||
        artifact.buffers[loss->buffer].type.elements() != 1)
      fail(entry->name + " must output '" + kLoss + "', one f32");
  }
  if (const Binding *logits = c.eval->output(kLogits))
    c.logits = logits->buffer;
  return c;
}

} // namespace giga::artifact::training
