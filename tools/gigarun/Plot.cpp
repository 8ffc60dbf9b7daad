//===- Plot.cpp - gigarun plot: a run's metrics.jsonl as an SVG -----------===//

#include "Plot.h"

#include "runtime/support/AtomicFile.h"
#include "runtime/support/Json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace giga::tools {

namespace {

/// The number at `key` of a record, if it holds one (a NaN loss is written
/// as null).
bool number(const nlohmann::json &record, const char *key, double &value) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_number())
    return false;
  value = it->get<double>();
  return std::isfinite(value);
}

struct Record {
  double loss = NAN, valLoss = NAN, learningRate = NAN, tokensPerSec = NAN;
};

} // namespace

RunMetrics readRunMetrics(const std::string &runPath) {
  RunMetrics run;
  run.label = runPath;
  while (run.label.size() > 1 && run.label.back() == '/')
    run.label.pop_back();
  std::error_code error;
  run.path = fs::is_directory(runPath, error)
                 ? (fs::path(runPath) / "metrics.jsonl").string()
                 : runPath;
  if (!fs::is_regular_file(run.path, error))
    throw FileError(run.path + ": no such file; give a run directory (the "
                               "--out of gigarun) or its metrics.jsonl");
  std::ifstream in(run.path);
  if (!in)
    throw FileError(run.path + ": cannot read it");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  std::map<int64_t, Record> steps;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty())
      continue;
    nlohmann::json record = nlohmann::json::parse(lines[i], nullptr, false);
    double step = 0;
    if (record.is_discarded() || !record.is_object() ||
        !number(record, "step", step)) {
      if (i + 1 == lines.size()) { // a run killed while appending it
        run.truncatedLastLine = true;
        continue;
      }
      throw FileError(run.path + ":" + std::to_string(i + 1) +
                      ": not a metrics record (a JSON object with a \"step\"); "
                      "plot the metrics.jsonl that gigarun wrote");
    }
    if (auto key = duplicateJsonKey(lines[i]))
      throw FileError(run.path + ":" + std::to_string(i + 1) + ": \"" + *key +
                      "\" appears twice in one record; plot the "
                      "metrics.jsonl that gigarun wrote");
    Record &r = steps[int64_t(step)] = Record{};
    number(record, "loss", r.loss);
    number(record, "val_loss", r.valLoss);
    number(record, "lr", r.learningRate);
    number(record, "tokens_per_sec", r.tokensPerSec);
  }
  if (steps.empty())
    throw FileError(run.path + ": no steps recorded yet; train first");
  run.firstStep = steps.begin()->first;
  run.lastStep = steps.rbegin()->first;
  for (const auto &[step, r] : steps) {
    auto add = [&, step = double(step)](Series &series, double value) {
      if (std::isfinite(value))
        series.emplace_back(step, value);
    };
    add(run.loss, r.loss);
    add(run.valLoss, r.valLoss);
    add(run.learningRate, r.learningRate);
    add(run.tokensPerSec, r.tokensPerSec);
  }
  return run;
}

namespace {

const char *const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string escapeXml(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string format(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

/// Tick values covering [low, high]: about `count` of them at 1, 2 or 5
/// times a power of ten.
std::vector<double> ticks(double low, double high, int count) {
  double raw = (high - low) / std::max(count - 1, 1);
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * power >= raw) {
      step = factor * power;
      break;
    }
  std::vector<double> values;
  for (double v = std::ceil(low / step) * step; v <= high + step * 1e-9;
       v += step)
    values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return values;
}

/// [low, high] of the values of `series`, widened when empty or flat.
std::pair<double, double> range(const std::vector<const Series *> &series,
                                bool ofSteps, double padding) {
  double low = INFINITY, high = -INFINITY;
  for (const Series *s : series)
    for (auto [step, value] : *s) {
      double x = ofSteps ? step : value;
      low = std::min(low, x);
      high = std::max(high, x);
    }
  if (!std::isfinite(low))
    return {0.0, 1.0};
  if (high - low <= std::abs(high) * 1e-9) {
    double half = std::max(std::abs(high) * 0.1, 1e-12);
    return {low - half, high + half};
  }
  double pad = (high - low) * padding;
  return {low - pad, high + pad};
}

/// At most about 2 points per pixel column: the first, the lowest and the
/// highest value of each column, so spikes survive thinning.
Series thin(const Series &series, double x0, double xScale, int width) {
  if (int64_t(series.size()) <= 2 * width)
    return series;
  Series result;
  size_t i = 0;
  while (i < series.size()) {
    int column = int((series[i].first - x0) * xScale);
    size_t end = i, low = i, high = i;
    while (end < series.size() &&
           int((series[end].first - x0) * xScale) == column) {
      if (series[end].second < series[low].second)
        low = end;
      if (series[end].second > series[high].second)
        high = end;
      ++end;
    }
    result.push_back(series[i]);
    for (size_t k : {std::min(low, high), std::max(low, high)})
      if (k != i)
        result.push_back(series[k]);
    i = end;
  }
  return result;
}

struct Panel {
  const char *title;
  Series RunMetrics::*primary;
  Series RunMetrics::*secondary; // drawn dashed with markers, or null
};

constexpr int kWidth = 900, kLeft = 80, kRight = 20, kPanelHeight = 230,
              kGap = 60, kTop = 70;

} // namespace

std::string plotSvg(const std::vector<RunMetrics> &runs) {
  const Panel panels[] = {{"loss (solid: training, dashed: validation)",
                           &RunMetrics::loss, &RunMetrics::valLoss},
                          {"learning rate", &RunMetrics::learningRate, nullptr},
                          {"tokens/s", &RunMetrics::tokensPerSec, nullptr}};
  int plotWidth = kWidth - kLeft - kRight;
  int height = kTop + 3 * (kPanelHeight + kGap);
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << kWidth << ' '
      << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // The legend: one colour per run.
  for (size_t r = 0; r < runs.size(); ++r) {
    const char *color = kColors[r % std::size(kColors)];
    int y = 20 + int(r % 3) * 16, x = kLeft + int(r / 3) * 280;
    svg << "<line x1=\"" << x << "\" y1=\"" << y - 4 << "\" x2=\"" << x + 24
        << "\" y2=\"" << y - 4 << "\" stroke=\"" << color
        << "\" stroke-width=\"2\"/><text x=\"" << x + 30 << "\" y=\"" << y
        << "\">" << escapeXml(runs[r].label) << "</text>\n";
  }
  std::vector<const Series *> everything;
  for (const RunMetrics &run : runs)
    for (const Panel &panel : panels)
      everything.push_back(&(run.*panel.primary));
  auto [x0, x1] = range(everything, /*ofSteps=*/true, 0.0);
  double xScale = plotWidth / (x1 - x0);

  for (size_t p = 0; p < std::size(panels); ++p) {
    const Panel &panel = panels[p];
    int top = kTop + int(p) * (kPanelHeight + kGap);
    std::vector<const Series *> shown;
    for (const RunMetrics &run : runs) {
      shown.push_back(&(run.*panel.primary));
      if (panel.secondary)
        shown.push_back(&(run.*panel.secondary));
    }
    auto [y0, y1] = range(shown, /*ofSteps=*/false, 0.05);
    double yScale = kPanelHeight / (y1 - y0);
    auto px = [&](double step) { return kLeft + (step - x0) * xScale; };
    auto py = [&](double value) { return top + (y1 - value) * yScale; };

    svg << "<g>\n<text x=\"" << kLeft << "\" y=\"" << top - 8
        << "\" font-weight=\"bold\">" << panel.title << "</text>\n";
    for (double v : ticks(y0, y1, 6))
      svg << "<line x1=\"" << kLeft << "\" y1=\"" << py(v) << "\" x2=\""
          << kLeft + plotWidth << "\" y2=\"" << py(v)
          << "\" stroke=\"#e0e0e0\"/><text x=\"" << kLeft - 6 << "\" y=\""
          << py(v) + 4 << "\" text-anchor=\"end\">" << format(v) << "</text>\n";
    for (double v : ticks(x0, x1, 8))
      svg << "<line x1=\"" << px(v) << "\" y1=\"" << top << "\" x2=\"" << px(v)
          << "\" y2=\"" << top + kPanelHeight
          << "\" stroke=\"#f0f0f0\"/><text x=\"" << px(v) << "\" y=\""
          << top + kPanelHeight + 16 << "\" text-anchor=\"middle\">"
          << format(v) << "</text>\n";
    svg << "<rect x=\"" << kLeft << "\" y=\"" << top << "\" width=\""
        << plotWidth << "\" height=\"" << kPanelHeight
        << "\" fill=\"none\" stroke=\"#888\"/>\n<text x=\""
        << kLeft + plotWidth / 2 << "\" y=\"" << top + kPanelHeight + 34
        << "\" text-anchor=\"middle\">step</text>\n";
    for (size_t r = 0; r < runs.size(); ++r) {
      const char *color = kColors[r % std::size(kColors)];
      auto line = [&](const Series &series, bool dashed) {
        if (series.empty())
          return;
        svg << "<polyline class=\"" << (dashed ? "secondary" : "primary")
            << "\" fill=\"none\" stroke=\"" << color
            << "\" stroke-width=\"1.5\""
            << (dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"";
        for (auto [step, value] : thin(series, x0, xScale, plotWidth))
          svg << format(px(step)) << ',' << format(py(value)) << ' ';
        svg << "\"/>\n";
        if (dashed) // validation points are few: mark each
          for (auto [step, value] : series)
            svg << "<circle cx=\"" << format(px(step)) << "\" cy=\""
                << format(py(value)) << "\" r=\"3\" fill=\"" << color
                << "\"/>\n";
      };
      line(runs[r].*panel.primary, false);
      if (panel.secondary)
        line(runs[r].*panel.secondary, true);
    }
    svg << "</g>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

} // namespace giga::tools
