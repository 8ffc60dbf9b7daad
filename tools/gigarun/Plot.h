//===- Plot.h - gigarun plot: a run's metrics.jsonl as an SVG ---*- C++ -*-===//
//
// Training loss, validation loss, learning rate and tokens/s against the
// step, one panel each, for one run or several overlaid, as a self-contained
// SVG that any browser shows, drawn by this code (no plotting library).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TOOLS_GIGARUN_PLOT_H
#define GIGA_TOOLS_GIGARUN_PLOT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace giga::tools {

/// (step, value) pairs in step order.
using Series = std::vector<std::pair<double, double>>;

struct RunMetrics {
  std::string label; // the run directory as given
  std::string path;  // its metrics.jsonl
  Series loss, valLoss, learningRate, tokensPerSec;
  int64_t firstStep = 0, lastStep = 0;
  /// A last line cut short (a run killed while writing it) that was skipped.
  bool truncatedLastLine = false;
};

/// The metrics of `runPath`: a run directory (its metrics.jsonl) or the file
/// itself. A step recorded twice keeps its last record. Throws FileError
/// naming the file (and line) for a missing file, a malformed line other
/// than a cut-short last one, or a file with no steps.
RunMetrics readRunMetrics(const std::string &runPath);

/// The SVG document plotting `runs` (at least one).
std::string plotSvg(const std::vector<RunMetrics> &runs);

} // namespace giga::tools

#endif // GIGA_TOOLS_GIGARUN_PLOT_H
