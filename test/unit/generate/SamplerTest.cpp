//===- SamplerTest.cpp - greedy, temperature, top-k, top-p, seeds ---------===//
//
// Distributions small enough to work out by hand: logits log(p) for
// p = 0.1, 0.2, 0.3, 0.4 give back p at temperature 1.
//
//===----------------------------------------------------------------------===//
#include "runtime/generate/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

namespace giga::generate {
namespace {

const std::vector<float> kLogits = {std::log(0.1f), std::log(0.2f),
                                    std::log(0.3f), std::log(0.4f)};

SamplingOptions with(double temperature, int64_t topK, double topP,
                     uint64_t seed = 0) {
  SamplingOptions o;
  o.temperature = temperature;
  o.topK = topK;
  o.topP = topP;
  o.seed = seed;
  return o;
}

void expectDistribution(const SamplingOptions &options,
                        const std::vector<float> &logits,
                        const std::map<int32_t, double> &expected) {
  auto got = Sampler(options).distribution(logits.data(), logits.size());
  ASSERT_EQ(got.size(), expected.size());
  double previous = 2;
  for (const auto &[id, p] : got) {
    ASSERT_TRUE(expected.count(id)) << "token " << id << " may not be drawn";
    EXPECT_NEAR(p, expected.at(id), 1e-6) << "token " << id;
    EXPECT_LE(p, previous) << "most probable first";
    previous = p;
  }
}

TEST(Sampler, GreedyTakesTheLargestLogitAndTheLowestIdOnATie) {
  std::vector<float> logits = {1, 3, 3, 2};
  Sampler greedy(with(0, 200, 1));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(greedy.next(logits.data(), 4), 1);
  expectDistribution(with(0, 0, 1), logits, {{1, 1.0}});
}

TEST(Sampler, TemperatureOneGivesTheSoftmax) {
  expectDistribution(with(1, 0, 1), kLogits,
                     {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}});
}

TEST(Sampler, TemperatureSharpensOrFlattens) {
  // p^(1/T), renormalised.
  for (double t : {0.5, 2.0}) {
    std::map<int32_t, double> expected;
    double sum = 0;
    for (int i = 0; i < 4; ++i)
      sum += expected[i] = std::pow(0.1 * (i + 1), 1 / t);
    for (auto &[id, p] : expected)
      p /= sum;
    expectDistribution(with(t, 0, 1), kLogits, expected);
  }
}

TEST(Sampler, TopKKeepsTheKLargestAndTheirTies) {
  expectDistribution(with(1, 2, 1), kLogits, {{3, 4.0 / 7}, {2, 3.0 / 7}});
  expectDistribution(with(1, 4, 1), kLogits,
                     {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}});
  expectDistribution(with(1, 9, 1), kLogits,
                     {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}});
  // 0.4, 0.3, 0.3: the second and third tie at the cut of top-2.
  std::vector<float> tie = {std::log(0.4f), std::log(0.3f), std::log(0.3f)};
  expectDistribution(with(1, 2, 1), tie, {{0, 0.4}, {1, 0.3}, {2, 0.3}});
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  expectDistribution(with(1, 0, 0.35), kLogits, {{3, 1.0}});
  expectDistribution(with(1, 0, 0.65), kLogits, {{3, 4.0 / 7}, {2, 3.0 / 7}});
  expectDistribution(with(1, 0, 0.95), kLogits,
                     {{3, 0.4}, {2, 0.3}, {1, 0.2}, {0, 0.1}});
  // After top-k: of 0.4 and 0.3 renormalised (4/7, 3/7), 0.5 keeps one.
  expectDistribution(with(1, 2, 0.5), kLogits, {{3, 1.0}});
}

TEST(Sampler, DrawsFollowTheDistributionAndTheSeed) {
  Sampler sampler(with(1, 0, 1, /*seed=*/7));
  std::map<int32_t, int> counts;
  const int draws = 100000;
  std::vector<int32_t> first;
  for (int i = 0; i < draws; ++i) {
    int32_t id = sampler.next(kLogits.data(), 4);
    ++counts[id];
    if (first.size() < 50)
      first.push_back(id);
  }
  for (int id = 0; id < 4; ++id) {
    double p = 0.1 * (id + 1);
    double sigma = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(counts[id], draws * p, 5 * sigma) << "token " << id;
  }
  auto sequence = [&](uint64_t seed) {
    Sampler s(with(1, 0, 1, seed));
    std::vector<int32_t> ids;
    for (int i = 0; i < 50; ++i)
      ids.push_back(s.next(kLogits.data(), 4));
    return ids;
  };
  EXPECT_EQ(sequence(7), first) << "a seed gives the same tokens";
  EXPECT_NE(sequence(8), first) << "another seed gives others";
}

TEST(Sampler, MaskedLogitsAreNeverDrawnAndNoFiniteLogitIsAnError) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> logits = {-inf, 0, -inf, 0};
  Sampler sampler(with(1, 0, 1, 3));
  for (int i = 0; i < 1000; ++i) {
    int32_t id = sampler.next(logits.data(), 4);
    ASSERT_TRUE(id == 1 || id == 3) << id;
  }
  std::vector<float> dead = {-inf, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(sampler.next(dead.data(), 2), SamplingError);
}

TEST(Sampler, RefusesBadOptions) {
  EXPECT_THROW(Sampler(with(-1, 0, 1)), SamplingError);
  EXPECT_THROW(Sampler(with(NAN, 0, 1)), SamplingError);
  EXPECT_THROW(Sampler(with(1, -1, 1)), SamplingError);
  EXPECT_THROW(Sampler(with(1, 0, 0)), SamplingError);
  EXPECT_THROW(Sampler(with(1, 0, 1.5)), SamplingError);
}

} // namespace
} // namespace giga::generate
