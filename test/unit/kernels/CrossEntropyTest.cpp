//===- CrossEntropyTest.cpp - mean cross-entropy loss and gradient --------===//

#include "runtime/kernels/CrossEntropy.h"
#include "GradCheck.h"

#include <stdexcept>

namespace giga::kernels::test {
namespace {

TEST(CrossEntropy, UniformLogitsGiveLogVocab) {
  const int64_t n = 7, vocab = 101;
  std::vector<float> logits(n * vocab, 0.3f), lse(n);
  std::vector<int32_t> targets = {0, 5, 100, 50, 50, 1, 99};
  float loss =
      crossEntropyForward(lse.data(), logits.data(), targets.data(), n, vocab);
  EXPECT_NEAR(loss, std::log(101.0), 1e-6);
  EXPECT_NEAR(lse[0], 0.3 + std::log(101.0), 1e-6);
}

TEST(CrossEntropy, KnownValuesAndLargeLogitsAreStable) {
  // Row 0: p = (1/4, 3/4), target 1 -> log(4/3); row 1: target 0 -> log 4.
  // The 1000 offset would overflow exp without the max subtraction.
  std::vector<float> logits = {1000.0f, 1000.0f + std::log(3.0f), 1000.0f,
                               1000.0f + std::log(3.0f)};
  std::vector<int32_t> targets = {1, 0};
  std::vector<float> lse(2);
  float loss =
      crossEntropyForward(lse.data(), logits.data(), targets.data(), 2, 2);
  EXPECT_NEAR(loss, (std::log(4.0 / 3.0) + std::log(4.0)) / 2, 1e-4);
}

struct Case {
  int64_t n, vocab;
};
class CrossEntropy : public ::testing::TestWithParam<Case> {};

TEST_P(CrossEntropy, ForwardMatchesReferenceAndGradientMatchesFiniteDiffs) {
  auto [n, vocab] = GetParam();
  std::vector<float> logits = randomFloats(n * vocab, 1, -4.0f, 4.0f);
  std::vector<int32_t> targets(n);
  for (int64_t i = 0; i < n; ++i)
    targets[i] = static_cast<int32_t>((i * 37 + 11) % vocab);
  std::vector<float> lse(n);
  float loss =
      crossEntropyForward(lse.data(), logits.data(), targets.data(), n, vocab);
  double lossRef = ref::crossEntropy(toDouble(logits), targets, n, vocab);
  EXPECT_NEAR(loss, lossRef, 1e-5 * lossRef);

  // A non-unit incoming gradient (e.g. 1 / micro-batches) must scale dlogits.
  const float dloss = 0.7f;
  auto grads = runBackward({logits.size()}, [&](auto &g, bool acc) {
    crossEntropyBackward(g[0].data(), logits.data(), lse.data(), targets.data(),
                         dloss, n, vocab, acc);
  });
  auto lossFn = [&](const std::vector<double> &x) {
    return dloss * ref::crossEntropy(x, targets, n, vocab);
  };
  expectClose("dlogits", grads[0], numericGradient(lossFn, toDouble(logits)),
              kGradTolerance);
}

INSTANTIATE_TEST_SUITE_P(Kernels, CrossEntropy,
                         ::testing::Values(Case{5, 101}, Case{4, 64}));

TEST(CrossEntropy, OutOfRangeTargetIsAnError) {
  std::vector<float> logits(2 * 3), lse(2), dlogits(2 * 3);
  std::vector<int32_t> targets = {0, 3};
  EXPECT_THROW(
      crossEntropyForward(lse.data(), logits.data(), targets.data(), 2, 3),
      std::out_of_range);
  EXPECT_THROW(crossEntropyBackward(dlogits.data(), logits.data(), lse.data(),
                                    targets.data(), 1.0f, 2, 3, false),
               std::out_of_range);
}

} // namespace
} // namespace giga::kernels::test
