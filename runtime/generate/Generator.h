//===- Generator.h - tokens in, next-token logits out -----------*- C++ -*-===//
//
// Drives a generation artifact's prefill and decode for `batch` sequences
// that move in step: a prompt goes in a chunk at a time (prefill), each new
// token one at a time (decode), with the keys and values of earlier
// positions in the artifact's KV cache. When a sequence outgrows the
// context, the window slides as nanoGPT's sample.py does: the last
// `context` tokens are run again from position 0, so every token's logits
// come from the `context` tokens before it, exactly as a full forward pass
// over them would give.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_GENERATE_GENERATOR_H
#define GIGA_RUNTIME_GENERATE_GENERATOR_H

#include "runtime/artifact/GenerationEntryPoints.h"
#include "runtime/generate/Sampler.h"

#include <cstdint>
#include <vector>

namespace giga::exec {
class Executor;
} // namespace giga::exec

namespace giga::generate {

class Generator {
public:
  /// `executor` runs `artifact`, whose contract is checked (ArtifactError).
  Generator(const artifact::Artifact &artifact, exec::Executor &executor,
            const std::string &source);

  const artifact::generation::Contract &shape() const { return contract; }

  /// Starts every sequence from `prompt` (1 to any number of tokens, each
  /// below the vocabulary; only its last `context` count): afterwards
  /// logits() follow its last token. Throws SamplingError for an empty
  /// prompt.
  void start(const std::vector<int32_t> &prompt);
  /// Appends one token to each sequence (`next[b]` to sequence b).
  void append(const std::vector<int32_t> &next);
  /// The logits [vocab] after sequence b's last token.
  const float *logits(int64_t b) const;

  /// Entry point calls so far, by kind, and the times the window slid.
  int64_t prefills = 0, decodes = 0, slides = 0;

private:
  /// Runs the last `context` tokens of every sequence from position 0.
  void refill();

  const artifact::generation::Contract contract;
  exec::Executor &executor;
  std::vector<std::vector<int32_t>> sequences;
  int64_t position = 0;       // the cache's filled rows
  const char *last = nullptr; // the entry point that ran last
};

} // namespace giga::generate

#endif // GIGA_RUNTIME_GENERATE_GENERATOR_H
