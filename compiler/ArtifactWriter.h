//===- ArtifactWriter.h - a planned wafer program as step.wafer -*- C++ -*-===//
#ifndef GIGA_COMPILER_ARTIFACTWRITER_H
#define GIGA_COMPILER_ARTIFACTWRITER_H

#include "runtime/artifact/Artifact.h"

#include "mlir/IR/BuiltinOps.h"

namespace giga {

/// The artifact of a module after wafer-partition (and optionally
/// wafer-place): parameter table, optimizer, buffer plan, kernels. `config`
/// and `target` are stored as given.
mlir::FailureOr<artifact::Artifact> buildArtifact(mlir::ModuleOp module,
                                                  const nlohmann::json &config,
                                                  const nlohmann::json &target);

} // namespace giga

#endif // GIGA_COMPILER_ARTIFACTWRITER_H
