//===- LinearCrossEntropyTest.cpp - the head fused with the loss ----------===//

#include "runtime/kernels/LinearCrossEntropy.h"
#include "GradCheck.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/CrossEntropy.h"
#include "runtime/kernels/Matmul.h"

#include <stdexcept>

namespace giga::kernels::test {
namespace {

struct Case {
  int64_t rows, channels, classes, chunk;
};
class LinearCrossEntropy : public ::testing::TestWithParam<Case> {};

std::vector<int32_t> targetsFor(int64_t rows, int64_t classes) {
  std::vector<int32_t> targets(rows);
  for (int64_t i = 0; i < rows; ++i)
    targets[i] = static_cast<int32_t>((i * 37 + 11) % classes);
  targets[0] = static_cast<int32_t>(classes - 1); // the last class too
  return targets;
}

// The loss of x wᵀ in double, as the unfused reference computes it.
double referenceLoss(const std::vector<double> &x, const std::vector<double> &w,
                     const std::vector<int32_t> &targets, const Case &c) {
  std::vector<double> logits =
      ref::matmul(x, w, 1, c.rows, c.classes, c.channels, false, true, false);
  return ref::crossEntropy(logits, targets, c.rows, c.classes);
}

TEST_P(LinearCrossEntropy, ForwardMatchesReferenceAndGradientsFiniteDiffs) {
  Case c = GetParam();
  std::vector<float> x = randomFloats(c.rows * c.channels, 1, -1.0f, 1.0f);
  std::vector<float> w = randomFloats(c.classes * c.channels, 2, -1.5f, 1.5f);
  std::vector<int32_t> targets = targetsFor(c.rows, c.classes);
  LinearCrossEntropyShape shape{c.rows, c.channels, c.classes, c.chunk};
  LinearCrossEntropyPlan plan(shape, /*withBackward=*/true);
  std::vector<float> scratch(shape.scratchFloats());
  float loss = plan.forward(scratch.data(), x.data(), w.data(), targets.data());
  double lossRef = referenceLoss(toDouble(x), toDouble(w), targets, c);
  EXPECT_NEAR(loss, lossRef, 1e-5 * lossRef);

  // The gradient's loss is the forward's, bit for bit: train_step reads it.
  const float dloss = 0.7f;
  auto grads = runBackward({x.size(), w.size()}, [&](auto &g, bool accumulate) {
    float again =
        plan.forwardBackward(g[0].data(), g[1].data(), scratch.data(), x.data(),
                             w.data(), targets.data(), dloss, accumulate);
    EXPECT_EQ(again, loss);
  });
  auto lossOfX = [&](const std::vector<double> &xd) {
    return dloss * referenceLoss(xd, toDouble(w), targets, c);
  };
  auto lossOfW = [&](const std::vector<double> &wd) {
    return dloss * referenceLoss(toDouble(x), wd, targets, c);
  };
  expectClose("dx", grads[0], numericGradient(lossOfX, toDouble(x)),
              kGradTolerance);
  expectClose("dw", grads[1], numericGradient(lossOfW, toDouble(w)),
              kGradTolerance);
}

// One chunk of every class, chunks that divide the classes, a narrower last
// chunk, and one class at a time.
INSTANTIATE_TEST_SUITE_P(Kernels, LinearCrossEntropy,
                         ::testing::Values(Case{6, 5, 13, 13},
                                           Case{6, 5, 12, 4}, Case{7, 8, 29, 8},
                                           Case{3, 4, 10, 1}));

TEST(LinearCrossEntropy, ChunkDoesNotChangeTheLossBeyondRounding) {
  const int64_t rows = 300, channels = 16, classes = 97;
  std::vector<float> x = randomFloats(rows * channels, 3, -2.0f, 2.0f);
  std::vector<float> w = randomFloats(classes * channels, 4, -2.0f, 2.0f);
  std::vector<int32_t> targets = targetsFor(rows, classes);
  float whole = 0.0f;
  for (int64_t chunk : {classes, int64_t(32), int64_t(7), int64_t(1)}) {
    LinearCrossEntropyShape shape{rows, channels, classes, chunk};
    LinearCrossEntropyPlan plan(shape, false);
    std::vector<float> scratch(shape.scratchFloats());
    float loss =
        plan.forward(scratch.data(), x.data(), w.data(), targets.data());
    if (chunk == classes)
      whole = loss;
    EXPECT_NEAR(loss, whole, 1e-6 * whole) << "chunk " << chunk;
  }
}

// In bf16 the fused kernel converts x, each chunk of w and each chunk's dz
// once and reuses them; it must agree with the unfused step made of bf16
// matmuls (which convert every operand afresh) and the fp32 loss, up to fp32
// rounding of the logits (a dz that lands on the other side of a bf16
// rounding boundary moves one element by 2^-8 relative: rare at this size).
TEST(LinearCrossEntropy, Bf16AgreesWithTheUnfusedBf16Step) {
  if (!hasBf16Arithmetic())
    GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16, AMX)";
  const int64_t rows = 37, channels = 24, classes = 101, chunk = 32;
  std::vector<float> x = randomFloats(rows * channels, 5, -1.0f, 1.0f);
  std::vector<float> w = randomFloats(classes * channels, 6, -1.0f, 1.0f);
  std::vector<int32_t> targets = targetsFor(rows, classes);
  const float dloss = 0.5f;

  LinearCrossEntropyShape shape{rows, channels, classes, chunk,
                                MatmulPrecision::Bf16};
  LinearCrossEntropyPlan plan(shape, true);
  std::vector<float> scratch(shape.scratchFloats()), dx(x.size()), dw(w.size());
  float loss =
      plan.forwardBackward(dx.data(), dw.data(), scratch.data(), x.data(),
                           w.data(), targets.data(), dloss, false);

  auto bf16 = [](MatmulShape s) {
    s.precision = MatmulPrecision::Bf16;
    return s;
  };
  std::vector<float> logits(rows * classes), lse(rows), dz(rows * classes),
      dxRef(x.size()), dwRef(w.size());
  matmul(bf16({1, rows, classes, channels, false, true}), x.data(), w.data(),
         logits.data());
  float lossRef = crossEntropyForward(lse.data(), logits.data(), targets.data(),
                                      rows, classes);
  crossEntropyBackward(dz.data(), logits.data(), lse.data(), targets.data(),
                       dloss, rows, classes, false);
  matmul(bf16({1, rows, channels, classes}), dz.data(), w.data(), dxRef.data());
  matmul(bf16({1, classes, channels, rows, true}), dz.data(), x.data(),
         dwRef.data());
  EXPECT_NEAR(loss, lossRef, 1e-5 * lossRef);
  expectClose("dx", dx, toDouble(dxRef), 1e-4);
  expectClose("dw", dw, toDouble(dwRef), 1e-4);
  // And bf16 is not fp32: the fp32 kernel's loss differs by bf16 rounding.
  LinearCrossEntropyPlan fp32({rows, channels, classes, chunk}, false);
  float lossFp32 =
      fp32.forward(scratch.data(), x.data(), w.data(), targets.data());
  EXPECT_GT(std::abs(lossFp32 - loss), 1e-6 * lossFp32);
}

TEST(LinearCrossEntropy, BadShapesAndBackwardWithoutPlanThrow) {
  EXPECT_THROW(LinearCrossEntropyPlan({4, 3, 5, 6}, false),
               std::invalid_argument);
  EXPECT_THROW(LinearCrossEntropyPlan({4, 3, 5, 0}, false),
               std::invalid_argument);
  EXPECT_THROW(LinearCrossEntropyPlan({0, 3, 5, 5}, false),
               std::invalid_argument);
  LinearCrossEntropyPlan forwardOnly({2, 3, 5, 2}, false);
  std::vector<float> x(6), w(15), dx(6), dw(15), scratch(10);
  std::vector<int32_t> targets = {0, 4};
  EXPECT_THROW(forwardOnly.forwardBackward(dx.data(), dw.data(), scratch.data(),
                                           x.data(), w.data(), targets.data(),
                                           1.0f, false),
               std::logic_error);
}

} // namespace
} // namespace giga::kernels::test
