//===- GenerationEntryPoints.cpp - the contract of a generation artifact --===//
#include "runtime/artifact/GenerationEntryPoints.h"

namespace giga::artifact::generation {

Contract contract(const Artifact &artifact, const std::string &source) {
  auto fail = [&](const std::string &message) {
    throw ArtifactError(source + ": " + message +
                        "; compile one with gigac compile CONFIG --task "
                        "generate -o gen.wafer");
  };
  Contract c;
  c.prefill = artifact.entryPoint(kPrefill);
  c.decode = artifact.entryPoint(kDecode);
  if (!c.prefill || !c.decode)
    fail(std::string("is not a generation artifact: it needs entry points '") +
         kPrefill + "' and '" + kDecode + "'");
  c.context = artifact.sequenceLength;
  for (const EntryPoint *entry : {c.prefill, c.decode}) {
    const Binding *tokens = entry->input(kTokens);
    const Binding *position = entry->input(kPosition);
    const Binding *logits = entry->output(kLogits);
    if (!tokens || !position || !logits || entry->inputs.size() != 2)
      fail(entry->name + " must take exactly '" + kTokens + "' and '" +
           kPosition + "' and give '" + kLogits + "'");
    const TensorType &ids = artifact.buffers[tokens->buffer].type;
    if (ids.dtype != DType::I32 || ids.shape.size() != 2 || tokens->limit < 1)
      fail(entry->name + " input '" + kTokens +
           "' must be [batch, tokens] i32 ids with a range");
    int64_t chunk = ids.shape[1];
    if (entry == c.prefill) {
      c.batch = ids.shape[0];
      c.chunk = chunk;
      c.vocab = tokens->limit;
    } else if (ids.shape[0] != c.batch || chunk != 1 ||
               tokens->limit != c.vocab) {
      fail("decode input 'tokens' must be [batch, 1] with prefill's batch "
           "and range");
    }
    const TensorType &start = artifact.buffers[position->buffer].type;
    if (start.dtype != DType::I32 || start.shape != std::vector<int64_t>{1} ||
        position->limit != c.context - chunk + 1 || chunk > c.context)
      fail(entry->name + " input '" + kPosition +
           "' must be one i32 in [0, context - tokens] for a context of " +
           std::to_string(c.context));
    const TensorType &out = artifact.buffers[logits->buffer].type;
    if (out.dtype != DType::F32 ||
        out.shape != std::vector<int64_t>{c.batch, c.vocab})
      fail(entry->name + " output '" + kLogits + "' must be f32 [batch, " +
           "vocab]");
  }
  return c;
}

} // namespace giga::artifact::generation
