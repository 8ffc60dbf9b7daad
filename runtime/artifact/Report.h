//===- Report.h - the compiler's cost estimate, readable --------*- C++ -*-===//
#ifndef GIGA_RUNTIME_ARTIFACT_REPORT_H
#define GIGA_RUNTIME_ARTIFACT_REPORT_H

#include "runtime/artifact/Artifact.h"

#include <string>

namespace giga::artifact {

/// A table per kernel (layers, PEs, SRAM, FLOPs, cycles, stream bytes,
/// what bounds it) and the totals (parameters, activation arena, micro-
/// batching, estimated step time and utilisation), from the artifact's
/// report; what `gigac --report` and `gigarun inspect` print.
std::string formatReport(const Artifact &artifact);

/// For an artifact of several systems: the bytes each moves a step in
/// collectives (an all-gather per weight streamed in, a reduce-scatter per
/// gradient streamed out), their time at the target's
/// interconnect_bytes_per_sec (else memoryx_bytes_per_sec), and the step
/// estimate with them.
std::string formatSystemsEstimate(const Artifact &artifact, double stepSeconds);

/// "1.50 GB", "12.0 KB": bytes for people.
std::string formatBytes(double bytes);
/// "1.25 T": counts for people.
std::string formatCount(double count);

} // namespace giga::artifact

#endif // GIGA_RUNTIME_ARTIFACT_REPORT_H
