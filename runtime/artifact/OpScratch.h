//===- OpScratch.h - the scratch memory each op runs with -------*- C++ -*-===//
//
// Some ops need temporary floats while they run (a layernorm's mean and rstd,
// a block of attention's probabilities, a chunk of the fused head's logits),
// because the artifact keeps only what later ops read. The compiler reserves
// the largest of them in the activation arena and the runtime ops use exactly
// that, so both read the sizes from here and the compiler plans all the memory
// the runtime uses.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_ARTIFACT_OPSCRATCH_H
#define GIGA_RUNTIME_ARTIFACT_OPSCRATCH_H

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/OpSchema.h"

#include <cstdint>
#include <vector>

namespace giga::artifact {

using Shapes = std::vector<std::vector<int64_t>>;

/// Query rows per head that attention and its gradient hold scores for at a
/// time (kernels::AttentionShape::queryBlock): their scratch is one block of
/// [min(64, T), T] scores per head, not [T, T].
inline constexpr int64_t kAttentionQueryBlock = 64;

/// Floats of scratch op `id` needs for operands of these shapes and these
/// attributes (0 for most ops). Shapes and attributes must be those the op's
/// validator accepts.
int64_t opScratchFloats(OpId id, const Shapes &inputs, const Shapes &outputs,
                        const nlohmann::json &attrs);

/// For artifacts built by hand (tests, benches): appends an op scratch region
/// as large as the artifact's ops need to the end of the arena, as gigac
/// plans one.
void reserveOpScratch(Artifact &artifact);

} // namespace giga::artifact

#endif // GIGA_RUNTIME_ARTIFACT_OPSCRATCH_H
