//===- BatchesTest.cpp - random training windows from token files ---------===//

#include "runtime/train/Batches.h"
#include "runtime/data/TokenFile.h"
#include "test/unit/TempDir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

namespace giga::train::test {
namespace {

using giga::test::TempDir;

/// Token i is i * 7 % modulus: each window is recognizable from its offset.
std::string writeTokens(const std::string &path, uint64_t count,
                        data::TokenFileFormat format, uint32_t modulus = 1000,
                        const std::function<uint32_t(uint64_t)> &at = {}) {
  data::TokenFileWriter writer(path, format);
  for (uint64_t i = 0; i < count; ++i)
    writer.append(at ? at(i) : uint32_t(i * 7 % modulus));
  writer.commit();
  return path;
}

void expectBatchError(const std::function<void()> &f,
                      const std::vector<std::string> &parts) {
  try {
    f();
    ADD_FAILURE() << "expected a BatchError";
  } catch (const BatchError &error) {
    std::string message = error.what();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message: " << message << "\nlacks: " << part;
  }
}

/// Checks every row of a batch against the file's tokens at its offset.
void expectWindows(const std::vector<uint64_t> &offsets,
                   const std::vector<int32_t> &tokens,
                   const std::vector<int32_t> &targets, int64_t T,
                   uint32_t modulus = 1000) {
  for (size_t b = 0; b < offsets.size(); ++b)
    for (int64_t t = 0; t < T; ++t) {
      ASSERT_EQ(tokens[b * T + t], int32_t((offsets[b] + t) * 7 % modulus));
      ASSERT_EQ(targets[b * T + t],
                int32_t((offsets[b] + t + 1) * 7 % modulus));
    }
}

TEST(BatchSampler, WindowsAreTheFileShiftedByOne) {
  TempDir dir;
  std::string path =
      writeTokens(dir.path("train.bin"), 5000, data::TokenFileFormat::NanoGpt);
  BatchSampler sampler(path, 16, 1000, 1);
  EXPECT_EQ(sampler.tokenCount(), 5000u);
  EXPECT_EQ(sampler.path(), path);
  std::vector<int32_t> tokens(4 * 16), targets(4 * 16);
  for (int i = 0; i < 10; ++i) {
    std::vector<uint64_t> offsets =
        sampler.next(4, tokens.data(), targets.data());
    ASSERT_EQ(offsets.size(), 4u);
    for (uint64_t o : offsets)
      EXPECT_LE(o, 5000u - 17u);
    expectWindows(offsets, tokens, targets, 16);
  }
}

TEST(BatchSampler, OffsetsCoverTheWholeRangeUniformly) {
  // N = 20, T = 4: offsets 0..15, all reachable, including the last
  // (nanoGPT's torch.randint(len(data) - block_size)).
  TempDir dir;
  std::string path =
      writeTokens(dir.path("tiny.bin"), 20, data::TokenFileFormat::NanoGpt);
  BatchSampler sampler(path, 4, 1000, 3);
  std::vector<int64_t> histogram(16, 0);
  std::vector<int32_t> tokens(4 * 100), targets(4 * 100);
  for (int round = 0; round < 80; ++round)
    for (uint64_t o : sampler.next(100, tokens.data(), targets.data())) {
      ASSERT_LT(o, 16u);
      ++histogram[o];
    }
  // 8000 draws, 500 expected per offset, standard deviation ~22.
  for (int64_t count : histogram)
    EXPECT_NEAR(double(count), 500.0, 110.0);
}

TEST(BatchSampler, ExactlyOneWindow) {
  TempDir dir;
  std::string path =
      writeTokens(dir.path("one.bin"), 9, data::TokenFileFormat::NanoGpt);
  BatchSampler sampler(path, 8, 1000, 3);
  std::vector<int32_t> tokens(16), targets(16);
  EXPECT_EQ(sampler.next(2, tokens.data(), targets.data()),
            (std::vector<uint64_t>{0, 0}));
  expectWindows({0, 0}, tokens, targets, 8);
}

TEST(BatchSampler, DeterministicPerSeed) {
  TempDir dir;
  std::string path = writeTokens(dir.path("train.bin"), 100000,
                                 data::TokenFileFormat::NanoGpt);
  BatchSampler a(path, 32, 1000, 42), b(path, 32, 1000, 42),
      c(path, 32, 1000, 43);
  std::vector<int32_t> ta(8 * 32), ga(8 * 32), tb(8 * 32), gb(8 * 32);
  for (int i = 0; i < 5; ++i) {
    std::vector<uint64_t> oa = a.next(8, ta.data(), ga.data());
    EXPECT_EQ(oa, b.next(8, tb.data(), gb.data()));
    EXPECT_EQ(ta, tb);
    EXPECT_EQ(ga, gb);
    EXPECT_NE(oa, c.next(8, tb.data(), gb.data()));
  }
  // Pinned: mt19937_64(42), rejection-sampled into [0, 100000 - 33].
  BatchSampler pinned(path, 32, 1000, 42);
  std::vector<uint64_t> first = pinned.next(3, ta.data(), ga.data());
  std::mt19937_64 generator(42);
  uint64_t range = 100000 - 32;
  uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  for (uint64_t o : first) {
    uint64_t x;
    do
      x = generator();
    while (x >= limit);
    EXPECT_EQ(o, x % range);
  }
}

TEST(BatchSampler, StateRoundTripContinuesTheSequence) {
  TempDir dir;
  std::string path = writeTokens(dir.path("train.bin"), 100000,
                                 data::TokenFileFormat::NanoGpt);
  BatchSampler a(path, 32, 1000, 7);
  std::vector<int32_t> tokens(4 * 32), targets(4 * 32);
  a.next(4, tokens.data(), targets.data());
  a.next(4, tokens.data(), targets.data());
  std::string saved = a.state();
  std::vector<uint64_t> expected1 = a.next(4, tokens.data(), targets.data());
  std::vector<uint64_t> expected2 = a.next(4, tokens.data(), targets.data());

  BatchSampler b(path, 32, 1000, 999); // another seed: restore overrides it
  b.restore(saved);
  EXPECT_EQ(b.state(), saved);
  EXPECT_EQ(b.next(4, tokens.data(), targets.data()), expected1);
  EXPECT_EQ(b.next(4, tokens.data(), targets.data()), expected2);

  // fill() reproduces a batch from its offsets.
  std::vector<int32_t> t2(4 * 32), g2(4 * 32);
  a.fill(expected2, t2.data(), g2.data());
  EXPECT_EQ(t2, tokens);
  EXPECT_EQ(g2, targets);

  expectBatchError([&] { b.restore("not a state"); }, {path, "state"});
  expectBatchError([&] { b.restore(saved + " 17"); }, {"state"});
  expectBatchError([&] { b.restore(""); }, {"state"});
  EXPECT_EQ(b.state(), a.state()) << "a failed restore changes nothing";
}

TEST(BatchSampler, OutOfVocabularyTokenIsAnErrorWithItsOffset) {
  TempDir dir;
  std::string path = writeTokens(
      dir.path("bad.bin"), 5000, data::TokenFileFormat::NanoGpt, 0,
      [](uint64_t i) { return i == 4321 ? 50300u : uint32_t(i % 100); });
  expectBatchError([&] { BatchSampler s(path, 16, 50257, 1); },
                   {path, "token 50300", "index 4321", "byte offset 8642",
                    "vocabulary of 50257"});
  // The last token is checked too.
  std::string last =
      writeTokens(dir.path("last.bin"), 100, data::TokenFileFormat::NanoGpt, 0,
                  [](uint64_t i) { return i == 99 ? 100u : 0u; });
  expectBatchError([&] { BatchSampler s(last, 16, 100, 1); },
                   {"token 100", "index 99"});
  BatchSampler fine(last, 16, 101, 1);
}

TEST(BatchSampler, TooShortFileSaysHowManyTokensAreNeeded) {
  TempDir dir;
  std::string path =
      writeTokens(dir.path("short.bin"), 10, data::TokenFileFormat::NanoGpt);
  expectBatchError([&] { BatchSampler s(path, 10, 1000, 1); },
                   {path, "holds 10 tokens", "11 tokens"});
  std::string empty =
      writeTokens(dir.path("empty.bin"), 0, data::TokenFileFormat::NanoGpt);
  expectBatchError([&] { BatchSampler s(empty, 4, 1000, 1); },
                   {"holds 0 tokens", "5 tokens"});
}

TEST(BatchSampler, LlmcShards) {
  TempDir dir;
  std::string path =
      writeTokens(dir.path("shard.bin"), 3000, data::TokenFileFormat::LlmC);
  BatchSampler sampler(path, 16, 1000, 5);
  EXPECT_EQ(sampler.tokenCount(), 3000u);
  std::vector<int32_t> tokens(3 * 16), targets(3 * 16);
  std::vector<uint64_t> offsets =
      sampler.next(3, tokens.data(), targets.data());
  expectWindows(offsets, tokens, targets, 16);

  std::string bad =
      writeTokens(dir.path("bad_shard.bin"), 3000, data::TokenFileFormat::LlmC,
                  0, [](uint64_t i) { return i == 10 ? 60000u : 1u; });
  // Byte offset counts the 1024-byte header.
  expectBatchError([&] { BatchSampler s(bad, 16, 50257, 1); },
                   {bad, "token 60000", "index 10", "byte offset 1044"});
}

TEST(BatchSampler, BadFilesAndArguments) {
  TempDir dir;
  expectBatchError([&] { BatchSampler s(dir.path("missing.bin"), 16, 100, 1); },
                   {dir.path("missing.bin")});
  std::string odd = dir.path("odd.bin");
  { std::ofstream(odd, std::ios::binary) << "abc"; }
  expectBatchError([&] { BatchSampler s(odd, 16, 100, 1); }, {odd, "odd"});
  std::string path =
      writeTokens(dir.path("ok.bin"), 100, data::TokenFileFormat::NanoGpt);
  expectBatchError([&] { BatchSampler s(path, 0, 1000, 1); },
                   {"sequence length"});
  expectBatchError([&] { BatchSampler s(path, 8, 0, 1); }, {"vocabulary"});
  BatchSampler sampler(path, 8, 1000, 1);
  std::vector<int32_t> tokens(8), targets(8);
  expectBatchError([&] { sampler.fill({92}, tokens.data(), targets.data()); },
                   {"offset 92", "91"});
  sampler.fill({91}, tokens.data(), targets.data());
}

} // namespace
} // namespace giga::train::test
