//===- Sampler.h - the next token from a row of logits ----------*- C++ -*-===//
//
// nanoGPT's sample.py, plus nucleus (top-p) sampling: the logits divided by
// the temperature, cut to the top-k, then to the smallest set of tokens whose
// probability reaches top-p, renormalised, and one token drawn; temperature 0
// is greedy. The draws come from a seeded generator whose arithmetic is
// written out here (not std::uniform_real_distribution, whose algorithm the
// standard leaves open), so a seed gives the same text on every machine.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_GENERATE_SAMPLER_H
#define GIGA_RUNTIME_GENERATE_SAMPLER_H

#include "runtime/support/Error.h"

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace giga::generate {

class SamplingError : public Error {
public:
  using Error::Error;
};

struct SamplingOptions {
  /// 0: greedy (the largest logit; the lowest id on a tie).
  double temperature = 0.8;
  /// Keep the k largest logits (and any equal to the k-th); 0: all.
  int64_t topK = 200;
  /// Keep the most probable tokens until their probability reaches this
  /// (1: all), after top-k.
  double topP = 1.0;
  uint64_t seed = 0;
};

class Sampler {
public:
  /// Throws SamplingError for a negative or non-finite temperature, a
  /// negative top-k, or a top-p outside (0, 1].
  explicit Sampler(const SamplingOptions &options);

  /// The next token of `logits[0..vocab)`. Throws SamplingError if no logit
  /// is finite (a diverged model).
  int32_t next(const float *logits, int64_t vocab);

  /// The tokens next() may draw and their probabilities, most probable
  /// first (one token with probability 1 when greedy).
  std::vector<std::pair<int32_t, double>> distribution(const float *logits,
                                                       int64_t vocab) const;

private:
  SamplingOptions options;
  std::mt19937_64 generator;
};

} // namespace giga::generate

#endif // GIGA_RUNTIME_GENERATE_SAMPLER_H
