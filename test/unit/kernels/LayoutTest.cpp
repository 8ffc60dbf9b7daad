//===- LayoutTest.cpp - permutations, splits and concatenations -----------===//

#include "runtime/kernels/Layout.h"
#include "GradCheck.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace giga::kernels::test {
namespace {

/// Distinct bytes, so a misplaced element or byte shows.
std::vector<unsigned char> randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> bytes(n);
  for (unsigned char &b : bytes)
    b = static_cast<unsigned char>(rng());
  return bytes;
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// out[j] for every output index j: its coordinates in the output shape,
/// mapped to the input's through the permutation.
std::vector<unsigned char> naivePermute(const std::vector<unsigned char> &in,
                                        const std::vector<int64_t> &shape,
                                        const std::vector<int64_t> &perm,
                                        int64_t elementSize) {
  size_t rank = shape.size();
  std::vector<int64_t> outShape(rank), inStrides(rank, 1);
  for (size_t i = 0; i < rank; ++i)
    outShape[i] = shape[perm[i]];
  for (size_t i = rank; i-- > 1;)
    inStrides[i - 1] = inStrides[i] * shape[i];
  int64_t count = product(shape);
  std::vector<unsigned char> out(count * elementSize);
  for (int64_t j = 0; j < count; ++j) {
    int64_t rest = j, source = 0;
    for (size_t i = rank; i-- > 0;) {
      int64_t coordinate = rest % outShape[i];
      rest /= outShape[i];
      source += coordinate * inStrides[perm[i]];
    }
    std::memcpy(out.data() + j * elementSize, in.data() + source * elementSize,
                elementSize);
  }
  return out;
}

void expectPermutes(const std::vector<int64_t> &shape,
                    const std::vector<int64_t> &perm, int64_t elementSize,
                    uint32_t seed) {
  std::string what = "shape " + ::testing::PrintToString(shape) + " perm " +
                     ::testing::PrintToString(perm) + " element size " +
                     std::to_string(elementSize);
  int64_t count = product(shape);
  std::vector<unsigned char> in = randomBytes(count * elementSize, seed);
  std::vector<unsigned char> out(in.size(), 0xAB);
  Permutation plan = planPermutation(shape, perm, elementSize);
  EXPECT_EQ(plan.count, count) << what;
  permute(plan, out.data(), in.data());
  ASSERT_EQ(out, naivePermute(in, shape, perm, elementSize)) << what;
}

TEST(Layout, PermuteMatchesIndexMappingForRandomShapes) {
  std::mt19937 rng(31);
  int cases = 0;
  for (int64_t elementSize : {4, 8}) {
    for (int trial = 0; trial < 300; ++trial) {
      size_t rank = 1 + rng() % 5;
      std::vector<int64_t> shape(rank);
      for (int64_t &d : shape)
        d = 1 + rng() % 4; // size-1 dims one time in four
      std::vector<int64_t> perm(rank);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      expectPermutes(shape, perm, elementSize, 100 + trial);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 600);
}

TEST(Layout, PermuteTakesEachPath) {
  // Heads [B, T, H, D] -> [B, H, T, D] on f32: swapAxes12.
  Permutation heads = planPermutation({2, 5, 3, 4}, {0, 2, 1, 3}, 4);
  EXPECT_TRUE(heads.swapAxes12);
  expectPermutes({2, 5, 3, 4}, {0, 2, 1, 3}, 4, 1);
  // The same on 8-byte elements: runs of D.
  Permutation wide = planPermutation({2, 5, 3, 4}, {0, 2, 1, 3}, 8);
  EXPECT_FALSE(wide.swapAxes12);
  EXPECT_EQ(wide.strides.back(), 1);
  expectPermutes({2, 5, 3, 4}, {0, 2, 1, 3}, 8, 2);
  // The identity, and moving a size-1 dim, merge to one contiguous dim:
  // memcpy.
  Permutation identity = planPermutation({2, 3, 4}, {0, 1, 2}, 4);
  EXPECT_EQ(identity.sizes, (std::vector<int64_t>{24}));
  EXPECT_EQ(identity.strides, (std::vector<int64_t>{1}));
  Permutation ones = planPermutation({1, 6, 5}, {1, 0, 2}, 4);
  EXPECT_EQ(ones.sizes, (std::vector<int64_t>{30}));
  expectPermutes({1, 6, 5}, {1, 0, 2}, 4, 3);
  // A rotation merges the two dims that stay adjacent: [2,3,4] -> [3,4,2].
  Permutation rotation = planPermutation({2, 3, 4}, {1, 2, 0}, 4);
  EXPECT_EQ(rotation.sizes, (std::vector<int64_t>{12, 2}));
  EXPECT_EQ(rotation.strides, (std::vector<int64_t>{1, 12}));
  expectPermutes({2, 3, 4}, {1, 2, 0}, 4, 4);
  // A matrix transpose gathers element by element.
  expectPermutes({7, 5}, {1, 0}, 4, 5);
  expectPermutes({7, 5}, {1, 0}, 8, 6);
  // Rank 0 is one element.
  expectPermutes({}, {}, 8, 7);
}

TEST(Layout, PermuteOfNothingWritesNothing) {
  Permutation plan = planPermutation({3, 0, 2}, {2, 0, 1}, 4);
  EXPECT_EQ(plan.count, 0);
  float sentinel = 5.0f;
  permute(plan, &sentinel, nullptr);
  EXPECT_EQ(sentinel, 5.0f);
}

TEST(Layout, SwapAxes12IsItsOwnInverseWithSwappedDims) {
  const int64_t b = 2, t = 5, h = 3, d = 4;
  std::vector<float> x = randomFloats(b * t * h * d, 7);
  std::vector<float> y(x.size()), back(x.size());
  swapAxes12(y.data(), x.data(), b, t, h, d);
  // y is [b, h, t, d]
  EXPECT_EQ(y[((1 * h + 2) * t + 3) * d + 1], x[((1 * t + 3) * h + 2) * d + 1]);
  swapAxes12(back.data(), y.data(), b, h, t, d);
  EXPECT_EQ(back, x);
}

// Split axis 1 of [outer, sum(widths), inner] and put it back together.
void expectSplitsAndConcatenates(int64_t outer,
                                 const std::vector<int64_t> &widths,
                                 int64_t inner, int64_t elementSize) {
  std::string what = "outer " + std::to_string(outer) + " widths " +
                     ::testing::PrintToString(widths) + " inner " +
                     std::to_string(inner) + " element size " +
                     std::to_string(elementSize);
  int64_t total = std::accumulate(widths.begin(), widths.end(), int64_t{0});
  std::vector<unsigned char> whole =
      randomBytes(outer * total * inner * elementSize, 41);
  std::vector<int64_t> partCols;
  std::vector<std::vector<unsigned char>> parts;
  for (int64_t w : widths) {
    partCols.push_back(w * inner);
    parts.emplace_back(outer * w * inner * elementSize, 0xCD);
  }
  std::vector<void *> partPtrs;
  for (auto &part : parts)
    partPtrs.push_back(part.data());
  splitAxis(whole.data(), partPtrs.data(), partCols.data(), parts.size(), outer,
            elementSize);

  int64_t offset = 0; // along axis 1
  for (size_t p = 0; p < widths.size(); ++p) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t a = 0; a < widths[p]; ++a)
        for (int64_t i = 0; i < inner; ++i) {
          const unsigned char *got =
              parts[p].data() + ((o * widths[p] + a) * inner + i) * elementSize;
          const unsigned char *want =
              whole.data() +
              ((o * total + offset + a) * inner + i) * elementSize;
          ASSERT_EQ(std::memcmp(got, want, elementSize), 0)
              << what << ": part " << p << " at " << o << "," << a << "," << i;
        }
    offset += widths[p];
  }

  std::vector<unsigned char> back(whole.size(), 0xEF);
  std::vector<const void *> constPtrs(partPtrs.begin(), partPtrs.end());
  concatAxis(back.data(), constPtrs.data(), partCols.data(), parts.size(),
             outer, elementSize);
  EXPECT_EQ(back, whole) << what;
}

TEST(Layout, SplitMatchesReferenceAndConcatInvertsIt) {
  expectSplitsAndConcatenates(3, {2, 2, 2}, 4, 4); // qkv: equal parts
  expectSplitsAndConcatenates(2, {1, 3, 0, 2}, 5, 4);
  expectSplitsAndConcatenates(4, {3, 1}, 1, 8); // the last axis
  expectSplitsAndConcatenates(1, {2, 5}, 3, 8); // the first axis
  expectSplitsAndConcatenates(5, {4}, 2, 4);    // one part is a copy
}

TEST(Layout, SplitAndConcatOfNoRowsWriteNothing) {
  int64_t cols[] = {2};
  float part = 1.0f, whole = 2.0f;
  void *parts[] = {&part};
  const void *constParts[] = {&part};
  splitAxis(&whole, parts, cols, 1, 0, 4);
  concatAxis(&whole, constParts, cols, 1, 0, 4);
  EXPECT_EQ(part, 1.0f);
  EXPECT_EQ(whole, 2.0f);
}

} // namespace
} // namespace giga::kernels::test
