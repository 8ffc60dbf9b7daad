//===- TokenizerTest.cpp - GPT-2 byte-level BPE ---------------------------===//

#include "runtime/data/Tokenizer.h"

#include "DataTestSupport.h"
#include "runtime/data/Cache.h"
#include "runtime/data/DataError.h"
#include "runtime/data/Prepare.h"
#include "runtime/data/Unicode.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

using namespace giga::data;
using namespace giga::data::test;

namespace {

struct TestPlan {
  std::string sample;
  std::vector<TokenId> expected;
};

/// gpt-tokenizer's data/TestPlans.txt: blocks of "EncodingName: X",
/// "Sample: TEXT", "Encoded: [ids]". r50k_base is GPT-2's encoding.
std::vector<TestPlan> loadGpt2TestPlans() {
  std::istringstream lines(
      readFile(cachedFile(tokenizerTestPlansPackage(), "data/TestPlans.txt")));
  std::vector<TestPlan> plans;
  std::string line, encoding;
  TestPlan plan;
  while (std::getline(lines, line)) {
    if (line.rfind("EncodingName: ", 0) == 0) {
      encoding = line.substr(14);
    } else if (line.rfind("Sample: ", 0) == 0) {
      plan.sample = line.substr(8);
    } else if (line.rfind("Encoded: ", 0) == 0 && encoding == "r50k_base") {
      std::string list = line.substr(9);
      plan.expected.clear();
      for (char &c : list)
        if (c == '[' || c == ']' || c == ',')
          c = ' ';
      std::istringstream ids(list);
      for (TokenId id; ids >> id;)
        plan.expected.push_back(id);
      plans.push_back(plan);
    }
  }
  return plans;
}

std::string randomUtf8(std::mt19937 &random, size_t maxChars) {
  // Weighted toward the characters that stress pre-tokenization: spaces of
  // every kind, apostrophes, digits, letters of several scripts, marks,
  // emoji and the astral planes.
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E},        {0x20, 0x20},     {0x09, 0x0D},
      {'\'', '\''},        {'0', '9'},       {0xA0, 0x17F},
      {0x370, 0x3FF},      {0x400, 0x4FF},   {0x600, 0x6FF},
      {0x900, 0x97F},      {0x2000, 0x206F}, {0x3000, 0x30FF},
      {0x4E00, 0x4FFF},    {0xAC00, 0xACFF}, {0x1F300, 0x1F6FF},
      {0x10000, 0x10FFFF}, {0x300, 0x36F},   {0x85, 0x85},
      {0xFFF0, 0xFFFD}};
  std::string text;
  size_t chars = std::uniform_int_distribution<size_t>(0, maxChars)(random);
  for (size_t i = 0; i < chars; ++i) {
    const auto &[low, high] = ranges[random() % ranges.size()];
    uint32_t codePoint =
        std::uniform_int_distribution<uint32_t>(low, high)(random);
    if (codePoint >= 0xD800 && codePoint <= 0xDFFF)
      codePoint = 'x';
    appendUtf8(text, codePoint);
  }
  return text;
}

} // namespace

TEST(Tokenizer, KnownIds) {
  EXPECT_EQ(gpt2().encode("Hello world"), (std::vector<TokenId>{15496, 995}));
  EXPECT_EQ(gpt2().encode(" Hello world"), (std::vector<TokenId>{18435, 995}));
  EXPECT_EQ(gpt2().encode(""), std::vector<TokenId>{});
  EXPECT_EQ(gpt2().vocabSize(), kGpt2VocabSize);
  EXPECT_EQ(gpt2().tokenBytes(kEndOfText), "<|endoftext|>");
  // Special tokens are ordinary text when encoding.
  EXPECT_EQ(gpt2().encode("<|endoftext|>"),
            (std::vector<TokenId>{27, 91, 437, 1659, 5239, 91, 29}));
}

TEST(Tokenizer, AllGpt2TestPlansOfGptTokenizer) {
  std::vector<TestPlan> plans = loadGpt2TestPlans();
  ASSERT_EQ(plans.size(), 64u) << "expected gpt-tokenizer@4.0.0's 64 cases";
  for (const TestPlan &plan : plans) {
    EXPECT_EQ(gpt2().encode(plan.sample), plan.expected)
        << "sample: " << plan.sample;
    EXPECT_EQ(gpt2().decode(plan.expected), plan.sample);
  }
}

TEST(Tokenizer, PretokenizesLikeGpt2Pattern) {
  using Pieces = std::vector<std::string_view>;
  EXPECT_EQ(Tokenizer::pretokenize("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(Tokenizer::pretokenize("  hi"), (Pieces{" ", " hi"}));
  EXPECT_EQ(Tokenizer::pretokenize("a\n\nb"), (Pieces{"a", "\n", "\n", "b"}));
  EXPECT_EQ(Tokenizer::pretokenize("x  "), (Pieces{"x", "  "}));
  EXPECT_EQ(Tokenizer::pretokenize("\t\tx"), (Pieces{"\t", "\t", "x"}));
  EXPECT_EQ(Tokenizer::pretokenize("don't we'll I'M"),
            (Pieces{"don", "'t", " we", "'ll", " I", "'", "M"}));
  EXPECT_EQ(Tokenizer::pretokenize("abc123 456!?"),
            (Pieces{"abc", "123", " 456", "!?"}));
  EXPECT_EQ(Tokenizer::pretokenize(" !!'s"), (Pieces{" !!'", "s"}));
  EXPECT_EQ(Tokenizer::pretokenize("caf\xC3\xA9 \xE2\x80\x83x"),
            (Pieces{"caf\xC3\xA9", " ", "\xE2\x80\x83", "x"}));
  EXPECT_EQ(Tokenizer::pretokenize("\xFF\xFE ab"), (Pieces{"\xFF\xFE", " ab"}));
}

TEST(Tokenizer, RoundTripsRandomUtf8) {
  std::mt19937 random(20240520);
  EncodeCache cache;
  for (int i = 0; i < 3000; ++i) {
    std::string text = randomUtf8(random, 40);
    std::vector<TokenId> ids;
    gpt2().encode(text, ids, cache);
    ASSERT_EQ(gpt2().decode(ids), text) << testing::PrintToString(text);
  }
}

TEST(Tokenizer, RoundTripsInvalidUtf8Bytes) {
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(random() % 48, '\0');
    for (char &byte : bytes)
      byte = char(random() % 256);
    std::vector<TokenId> ids = gpt2().encode(bytes);
    ASSERT_EQ(gpt2().decode(ids), bytes) << testing::PrintToString(bytes);
  }
  for (std::string bytes : {std::string("\xFF"), std::string("\xC0\x80"),
                            std::string("a\xED\xA0\x80z"),
                            std::string("\xE2\x82 euro"), std::string(1, '\0')})
    EXPECT_EQ(gpt2().decode(gpt2().encode(bytes)), bytes);
}

TEST(Tokenizer, RejectsIdsOutsideTheVocabulary) {
  EXPECT_THROW(gpt2().decode(std::vector<TokenId>{kGpt2VocabSize}), DataError);
  EXPECT_THROW(gpt2().tokenBytes(1u << 20), DataError);
}

// The fingerprints are of gpt-tokenizer@4.0.0's r50k_base encoding of the
// same text (computed with node), so these pin exact GPT-2 compatibility on
// 12 MB of real text, not just round-tripping.
TEST(Tokenizer, MobyDickMatchesReferenceAndRoundTrips) {
  std::string text = readFile(cachedFile(mobyDickPackage(), "data/data.txt"));
  ASSERT_EQ(text.size(), 1204997u);
  std::vector<TokenId> ids = gpt2().encode(text);
  EXPECT_EQ(ids.size(), 317756u);
  EXPECT_EQ(fingerprint(ids), 0xa11b5d12787588cdULL);
  EXPECT_EQ(gpt2().decode(ids), text);
  EXPECT_EQ(encodeParallel(gpt2(), text, 2), ids);
}

TEST(Tokenizer, SotuMatchesReferenceAndRoundTrips) {
  std::string folder = cachedFile(sotuPackage(), "data");
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".txt")
      names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 233u);
  std::string text;
  for (const std::string &name : names)
    text += readFile(name);
  std::vector<TokenId> ids = encodeParallel(gpt2(), text, 2);
  EXPECT_EQ(ids.size(), 2074249u);
  EXPECT_EQ(fingerprint(ids), 0xd52517bbaf992d44ULL);
  EXPECT_EQ(gpt2().decode(ids), text);
}

TEST(Tokenizer, LongPiecesAreNotQuadratic) {
  // One pre-token of 2 MB (no spaces): a rescanning BPE would take minutes.
  std::string letters;
  std::mt19937 random(3);
  for (int i = 0; i < (2 << 20); ++i)
    letters.push_back(char('a' + random() % 26));
  std::string digits(1 << 20, '7');
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(gpt2().decode(gpt2().encode(letters)), letters);
  EXPECT_EQ(gpt2().decode(gpt2().encode(digits)), digits);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(seconds, 20.0);
}

TEST(Tokenizer, MissingFileSaysHowToFetch) {
  TempDir dir;
  try {
    Tokenizer::loadFromDir(dir.path());
    FAIL() << "loading from an empty folder must fail";
  } catch (const DataError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("not found"), std::string::npos) << message;
    EXPECT_NE(message.find(dir.path() + "/encoder.json"), std::string::npos);
    EXPECT_NE(message.find("gigatok fetch-tokenizer"), std::string::npos);
  }
}

TEST(Tokenizer, HashMismatchSaysWhichFileAndHowToFix) {
  TempDir dir;
  std::string source = npmPackageDir(gpt2TokenizerPackage());
  std::string encoder =
      readFile(cachedFile(gpt2TokenizerPackage(), "encoder.json"));
  encoder[encoder.size() / 2] ^= 1;
  writeFile(dir.path("encoder.json"), encoder);
  std::filesystem::copy_file(source + "/vocab.bpe", dir.path("vocab.bpe"));
  try {
    Tokenizer::loadFromDir(dir.path());
    FAIL() << "a tampered encoder.json must be refused";
  } catch (const DataError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find(dir.path("encoder.json")), std::string::npos)
        << message;
    EXPECT_NE(message.find("sha256"), std::string::npos);
    EXPECT_NE(
        message.find(
            "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
        std::string::npos);
    EXPECT_NE(message.find("fetch-tokenizer"), std::string::npos);
  }
}
