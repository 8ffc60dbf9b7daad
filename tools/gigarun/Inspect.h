//===- Inspect.h - gigarun inspect: an artifact, readable -------*- C++ -*-===//
#ifndef GIGA_TOOLS_GIGARUN_INSPECT_H
#define GIGA_TOOLS_GIGARUN_INSPECT_H

#include "runtime/artifact/Artifact.h"

#include <iosfwd>
#include <string>

namespace giga::tools {

/// Prints what `artifact` (read from `path`, `fileBytes` long) holds: the
/// config, batch and micro-batching, the parameter table, the buffer plan,
/// every kernel with its ops and placement, and the compiler's report.
void inspectArtifact(const artifact::Artifact &artifact,
                     const std::string &path, int64_t fileBytes,
                     std::ostream &out);

} // namespace giga::tools

#endif // GIGA_TOOLS_GIGARUN_INSPECT_H
