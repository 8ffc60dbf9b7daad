//===- Sampler.cpp - the next token from a row of logits ------------------===//
#include "runtime/generate/Sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

namespace giga::generate {
namespace {
std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}
} // namespace

Sampler::Sampler(const SamplingOptions &options)
    : options(options), generator(options.seed) {
  if (!std::isfinite(options.temperature) || options.temperature < 0)
    throw SamplingError("--temperature " + number(options.temperature) +
                        " must be finite and >= 0 (0 is greedy)");
  if (options.topK < 0)
    throw SamplingError("--top-k " + std::to_string(options.topK) +
                        " must be >= 0 (0 keeps every token)");
  if (!(options.topP > 0 && options.topP <= 1))
    throw SamplingError("--top-p " + number(options.topP) +
                        " must be in (0, 1] (1 keeps every token)");
}

std::vector<std::pair<int32_t, double>>
Sampler::distribution(const float *logits, int64_t vocab) const {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < vocab; ++i)
    if (std::isfinite(logits[i]))
      ids.push_back(int32_t(i));
  if (ids.empty())
    throw SamplingError("the model's logits hold no finite value (it has "
                        "diverged): sample from an earlier checkpoint");
  // Most probable first; on a tie the lower id, as argmax picks it.
  auto before = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (options.temperature == 0)
    return {{*std::min_element(ids.begin(), ids.end(), before), 1.0}};
  // Top-k keeps every token tied with the k-th; only those are sorted (a
  // whole vocabulary's sort per token costs more than the decode's head).
  if (options.topK > 0 && int64_t(ids.size()) > options.topK) {
    auto kth = ids.begin() + (options.topK - 1);
    std::nth_element(ids.begin(), kth, ids.end(), before);
    float kthLogit = logits[*kth];
    auto end = std::partition(
        kth + 1, ids.end(), [&](int32_t id) { return logits[id] >= kthLogit; });
    ids.erase(end, ids.end());
  }
  std::sort(ids.begin(), ids.end(), before);
  // softmax(logits / temperature) over what is left, in double.
  double top = double(logits[ids.front()]) / options.temperature, sum = 0;
  std::vector<std::pair<int32_t, double>> result;
  for (int32_t id : ids) {
    double p = std::exp(double(logits[id]) / options.temperature - top);
    result.emplace_back(id, p);
    sum += p;
  }
  for (auto &entry : result)
    entry.second /= sum;
  if (options.topP < 1) {
    double cumulative = 0;
    size_t keep = 0;
    while (keep < result.size() && cumulative < options.topP)
      cumulative += result[keep++].second;
    result.resize(keep);
    for (auto &entry : result)
      entry.second /= cumulative;
  }
  return result;
}

int32_t Sampler::next(const float *logits, int64_t vocab) {
  std::vector<std::pair<int32_t, double>> choices = distribution(logits, vocab);
  if (choices.size() == 1)
    return choices.front().first;
  // A uniform double in [0, 1) from the top 53 bits.
  double u = double(generator() >> 11) * 0x1.0p-53;
  double cumulative = 0;
  for (const auto &[id, p] : choices) {
    cumulative += p;
    if (u < cumulative)
      return id;
  }
  return choices.back().first; // u within rounding of 1
}

} // namespace giga::generate
