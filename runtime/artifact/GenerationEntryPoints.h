//===- GenerationEntryPoints.h - what gigarun sample calls ----*- C++ -*-===//
//
// What `gigac compile --task generate` gives and gigarun sample calls:
// `prefill` (tokens [batch, chunk] at positions position..) and `decode`
// (tokens [batch, 1] at position), each leaving `logits` [batch, vocab]
// after its last token, over per-layer KV caches that the artifact keeps as
// state buffers between calls. The executor knows none of this.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_ARTIFACT_GENERATIONENTRYPOINTS_H
#define GIGA_RUNTIME_ARTIFACT_GENERATIONENTRYPOINTS_H

#include "runtime/artifact/Artifact.h"

namespace giga::artifact::generation {

inline constexpr char kPrefill[] = "prefill";
inline constexpr char kDecode[] = "decode";
inline constexpr char kTokens[] = "tokens";
inline constexpr char kPosition[] = "position";
inline constexpr char kLogits[] = "logits";

/// The artifact's prefill and decode, checked: tokens i32 [batch, chunk]
/// (chunk 1 for decode) below the vocabulary, position i32 [1] in
/// [0, context - chunk], logits f32 [batch, vocab]. Throws ArtifactError
/// naming `source` and what is missing.
struct Contract {
  const EntryPoint *prefill = nullptr, *decode = nullptr;
  int64_t batch = 0, chunk = 0, context = 0, vocab = 0;
};
Contract contract(const Artifact &artifact, const std::string &source);

} // namespace giga::artifact::generation

#endif // GIGA_RUNTIME_ARTIFACT_GENERATIONENTRYPOINTS_H
