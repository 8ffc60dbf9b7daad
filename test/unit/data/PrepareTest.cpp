//===- PrepareTest.cpp - text corpora to train.bin / val.bin --------------===//

#include "runtime/data/Prepare.h"

#include "DataTestSupport.h"
#include "runtime/data/DataError.h"
#include "runtime/data/Unicode.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace giga::data;
using namespace giga::data::test;

namespace {

std::vector<TokenId> readTokens(const std::string &path) {
  TokenFileReader reader = TokenFileReader::open(path);
  return reader.read(0, reader.size());
}

PrepareOptions optionsFor(std::vector<std::string> inputs,
                          const std::string &out, std::ostream *log) {
  PrepareOptions options;
  options.inputs = std::move(inputs);
  options.outDir = out;
  options.threads = 2;
  options.log = log;
  return options;
}

size_t countOf(const std::vector<TokenId> &ids, TokenId id) {
  return size_t(std::count(ids.begin(), ids.end(), id));
}

std::string prepareError(const PrepareOptions &options) {
  try {
    prepare(gpt2(), options);
  } catch (const DataError &error) {
    return error.what();
  }
  return "(no error)";
}

} // namespace

TEST(Prepare, PieceCutsNeverChangeTheEncoding) {
  // Random text rich in every kind of whitespace, cut as prepare cuts it,
  // must encode exactly as the whole.
  std::mt19937 random(11);
  const std::vector<std::string> atoms = {
      "word",         " the",         "\n\n", "\n",   "  ",
      "\t",           "'s",           "1234", "!!",   "\xC3\xA9t\xC3\xA9",
      "\xE2\x80\x83", "\xE3\x80\x80", " \n ", "\r\n", "x"};
  for (int trial = 0; trial < 20; ++trial) {
    std::string text;
    while (text.size() < 300000)
      text += atoms[random() % atoms.size()];
    EXPECT_EQ(encodeParallel(gpt2(), text, 2), gpt2().encode(text));
    size_t end = findPieceEnd(text, 65536);
    EXPECT_LE(end, 65536u);
    EXPECT_GT(end, 16384u);
  }
}

TEST(Prepare, SplitIsSeededAndHitsTheFraction) {
  size_t val = 0;
  for (uint64_t i = 0; i < 1000; ++i)
    val += pieceGoesToVal(i, 0.1, 1337);
  EXPECT_EQ(val, 100u);
  // The seed picks which piece of every ten goes to val.
  std::set<uint64_t> firstValPiece;
  for (uint64_t seed = 0; seed < 50; ++seed)
    for (uint64_t i = 0; i < 10; ++i)
      if (pieceGoesToVal(i, 0.1, seed)) {
        firstValPiece.insert(i);
        break;
      }
  EXPECT_GE(firstValPiece.size(), 5u) << "the seed must move the split";
  EXPECT_FALSE(pieceGoesToVal(5, 0.0, 1));
}

TEST(Prepare, MobyDickWithoutValIsTheBookThenEndOfText) {
  TempDir dir;
  std::string book = cachedFile(mobyDickPackage(), "data/data.txt");
  PrepareOptions options = optionsFor({book}, dir.path("out"), nullptr);
  options.valFraction = 0;
  PrepareSummary summary = prepare(gpt2(), options);
  EXPECT_EQ(summary.documents, 1u);
  std::vector<TokenId> expected = gpt2().encode(readFile(book));
  expected.push_back(kEndOfText);
  EXPECT_EQ(readTokens(summary.trainPath), expected);
  EXPECT_EQ(summary.valTokens, 0u);
  EXPECT_EQ(readTokens(summary.valPath).size(), 0u);
}

TEST(Prepare, MobyDickSplitsAboutTenPercentAndThreadsAgree) {
  TempDir dir;
  std::string book = cachedFile(mobyDickPackage(), "data/data.txt");
  PrepareOptions options = optionsFor({book}, dir.path("two"), nullptr);
  options.format = TokenFileFormat::LlmC;
  PrepareSummary two = prepare(gpt2(), options);
  options.threads = 1;
  options.outDir = dir.path("one");
  PrepareSummary one = prepare(gpt2(), options);
  EXPECT_EQ(readFile(two.trainPath), readFile(one.trainPath));
  EXPECT_EQ(readFile(two.valPath), readFile(one.valPath));

  std::vector<TokenId> train = readTokens(two.trainPath);
  std::vector<TokenId> val = readTokens(two.valPath);
  double valShare = double(val.size()) / double(train.size() + val.size());
  EXPECT_GT(valShare, 0.05);
  EXPECT_LT(valShare, 0.15);
  // Without the separators, the two splits hold every token of the book.
  size_t bookTokens = gpt2().encode(readFile(book)).size();
  EXPECT_EQ(train.size() - countOf(train, kEndOfText) + val.size() -
                countOf(val, kEndOfText),
            bookTokens);
  EXPECT_EQ(train.back(), kEndOfText);
  EXPECT_EQ(val.back(), kEndOfText);
}

TEST(Prepare, FoldersAndJsonl) {
  TempDir dir;
  std::filesystem::create_directories(dir.path("corpus/sub"));
  writeFile(dir.path("corpus/b.txt"), "Second document.");
  writeFile(dir.path("corpus/sub/a.md"), "First document.");
  writeFile(dir.path("corpus/ignored.json"), "{\"text\": \"not me\"}");
  writeFile(dir.path("docs.jsonl"),
            "{\"text\": \"Hello world\"}\n\n{\"text\": \"\"}\n"
            "{\"text\": \" Hello world\", \"id\": 3}\n");
  std::ostringstream log;
  PrepareOptions options = optionsFor(
      {dir.path("corpus"), dir.path("docs.jsonl")}, dir.path("out"), &log);
  options.valFraction = 0;
  PrepareSummary summary = prepare(gpt2(), options);
  EXPECT_EQ(summary.files, 3u);
  EXPECT_EQ(summary.documents, 4u);
  EXPECT_EQ(summary.emptyDocuments, 1u);
  EXPECT_NE(log.str().find("docs.jsonl:3 is empty"), std::string::npos)
      << log.str();
  std::vector<TokenId> expected;
  for (const char *text :
       {"Second document.", "First document.", "Hello world", " Hello world"}) {
    std::vector<TokenId> ids = gpt2().encode(text);
    expected.insert(expected.end(), ids.begin(), ids.end());
    expected.push_back(kEndOfText);
  }
  EXPECT_EQ(readTokens(summary.trainPath), expected);
}

TEST(Prepare, BadJsonlNamesTheLine) {
  TempDir dir;
  writeFile(dir.path("bad.jsonl"), "{\"text\": \"ok\"}\n{\"body\": 1}\n");
  std::string message = prepareError(
      optionsFor({dir.path("bad.jsonl")}, dir.path("out"), nullptr));
  EXPECT_NE(message.find("bad.jsonl:2"), std::string::npos) << message;
  EXPECT_NE(message.find("\"text\""), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/train.bin")));
}

TEST(Prepare, JsonlKeyGivenTwiceNamesTheLine) {
  TempDir dir;
  writeFile(dir.path("twice.jsonl"),
            "{\"text\": \"ok\"}\n{\"text\": \"a\", \"text\": \"b\"}\n");
  std::string message = prepareError(
      optionsFor({dir.path("twice.jsonl")}, dir.path("out"), nullptr));
  EXPECT_NE(message.find("twice.jsonl:2: \"text\" appears twice"),
            std::string::npos)
      << message;
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/train.bin")));
}

TEST(Prepare, InvalidUtf8IsReplacedRejectedOrKept) {
  TempDir dir;
  std::string latin1 = "caf\xE9 cr\xE8me, ok";
  writeFile(dir.path("latin1.txt"), latin1);

  std::ostringstream log;
  PrepareOptions options =
      optionsFor({dir.path("latin1.txt")}, dir.path("replace"), &log);
  options.valFraction = 0;
  PrepareSummary replaced = prepare(gpt2(), options);
  EXPECT_EQ(replaced.replacedSequences, 2u);
  EXPECT_NE(log.str().find(dir.path("latin1.txt")), std::string::npos);
  EXPECT_NE(log.str().find("U+FFFD"), std::string::npos) << log.str();
  std::vector<TokenId> ids = readTokens(replaced.trainPath);
  ids.pop_back();
  EXPECT_EQ(gpt2().decode(ids), replaceInvalidUtf8(latin1));

  options.invalidUtf8 = InvalidUtf8Policy::Keep;
  options.outDir = dir.path("keep");
  ids = readTokens(prepare(gpt2(), options).trainPath);
  ids.pop_back();
  EXPECT_EQ(gpt2().decode(ids), latin1);

  options.invalidUtf8 = InvalidUtf8Policy::Reject;
  options.outDir = dir.path("reject");
  std::string message = prepareError(options);
  EXPECT_NE(message.find("invalid UTF-8 at byte 3"), std::string::npos)
      << message;
  EXPECT_NE(message.find("--invalid-utf8=replace"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path("reject/train.bin")));
}

TEST(Prepare, EmptyInputIsAnErrorAndWritesNothing) {
  TempDir dir;
  writeFile(dir.path("empty.txt"), "");
  std::string message = prepareError(
      optionsFor({dir.path("empty.txt")}, dir.path("out"), nullptr));
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.path("empty.txt")), std::string::npos) << message;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path("out")));
}

TEST(Prepare, MissingInputIsAnError) {
  TempDir dir;
  std::string message = prepareError(
      optionsFor({dir.path("nope.txt")}, dir.path("out"), nullptr));
  EXPECT_NE(message.find("input not found: " + dir.path("nope.txt")),
            std::string::npos)
      << message;
  EXPECT_FALSE(std::filesystem::exists(dir.path("out")));
}

TEST(Prepare, OutputThatIsAFileIsAnError) {
  TempDir dir;
  writeFile(dir.path("in.txt"), "text");
  writeFile(dir.path("out"), "I am a file");
  std::string message =
      prepareError(optionsFor({dir.path("in.txt")}, dir.path("out"), nullptr));
  EXPECT_NE(message.find("is a file"), std::string::npos) << message;
}
