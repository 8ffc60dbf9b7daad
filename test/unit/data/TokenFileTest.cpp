//===- TokenFileTest.cpp - nanoGPT and llm.c token files ------------------===//

#include "runtime/data/TokenFile.h"

#include "DataTestSupport.h"
#include "runtime/data/DataError.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace giga::data;
using namespace giga::data::test;

namespace {

std::vector<TokenId> sampleIds() {
  std::vector<TokenId> ids;
  for (TokenId i = 0; i < 100000; ++i)
    ids.push_back((i * 7919) % kGpt2VocabSize);
  return ids;
}

bool hasTemporaryFiles(const std::string &dir) {
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp") != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(TokenFile, NanoGptIsRawLittleEndianUint16) {
  TempDir dir;
  std::string path = dir.path("train.bin");
  std::vector<TokenId> ids = sampleIds();
  {
    TokenFileWriter writer(path, TokenFileFormat::NanoGpt);
    EXPECT_FALSE(std::filesystem::exists(path)) << "only the temporary exists";
    writer.append(ids.data(), ids.size());
    writer.commit();
  }
  std::string bytes = readFile(path);
  ASSERT_EQ(bytes.size(), ids.size() * 2);
  EXPECT_EQ(uint8_t(bytes[2]), 7919 & 0xFF);
  EXPECT_EQ(uint8_t(bytes[3]), 7919 >> 8);
  TokenFileReader reader = TokenFileReader::open(path);
  EXPECT_EQ(reader.format(), TokenFileFormat::NanoGpt);
  EXPECT_EQ(reader.read(0, ids.size()), ids);
  EXPECT_FALSE(hasTemporaryFiles(dir.path()));
}

TEST(TokenFile, LlmcHasTheShardHeader) {
  TempDir dir;
  std::string path = dir.path("val.bin");
  std::vector<TokenId> ids = sampleIds();
  {
    TokenFileWriter writer(path, TokenFileFormat::LlmC);
    writer.append(ids.data(), ids.size());
    writer.commit();
  }
  std::string bytes = readFile(path);
  ASSERT_EQ(bytes.size(), 1024 + ids.size() * 2);
  int32_t header[256];
  std::memcpy(header, bytes.data(), sizeof header);
  EXPECT_EQ(header[0], 20240520);
  EXPECT_EQ(header[1], 1);
  EXPECT_EQ(header[2], int32_t(ids.size()));
  for (int i = 3; i < 256; ++i)
    ASSERT_EQ(header[i], 0);
  TokenFileReader reader = TokenFileReader::open(path);
  EXPECT_EQ(reader.format(), TokenFileFormat::LlmC);
  EXPECT_EQ(reader.size(), ids.size());
  EXPECT_EQ(reader.read(10, 5),
            std::vector<TokenId>(ids.begin() + 10, ids.begin() + 15));
  EXPECT_EQ(reader.read(ids.size() - 2, 100).size(), 2u)
      << "clipped to the end";
  EXPECT_THROW(reader.read(ids.size() + 1, 1), DataError);
}

TEST(TokenFile, UncommittedWriterLeavesNothing) {
  TempDir dir;
  {
    TokenFileWriter writer(dir.path("train.bin"), TokenFileFormat::LlmC);
    writer.append(sampleIds().data(), 1000);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(TokenFile, ReaderRejectsMalformedFiles) {
  TempDir dir;
  auto expectError = [](const std::string &path, const std::string &needle) {
    try {
      TokenFileReader::open(path);
      ADD_FAILURE() << path << " must be rejected";
    } catch (const DataError &error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
          << error.what();
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos)
          << error.what();
    }
  };
  expectError(dir.path("missing.bin"), "cannot open");
  writeFile(dir.path("odd.bin"), "abc");
  expectError(dir.path("odd.bin"), "odd size");

  std::string header(1024, '\0');
  int32_t fields[3] = {20240520, 2, 0};
  std::memcpy(header.data(), fields, sizeof fields);
  writeFile(dir.path("v2.bin"), header);
  expectError(dir.path("v2.bin"), "version 2");

  fields[1] = 1;
  fields[2] = 10;
  std::memcpy(header.data(), fields, sizeof fields);
  writeFile(dir.path("short.bin"), header + std::string(6, '\0'));
  expectError(dir.path("short.bin"), "truncated");
}

TEST(TokenFile, FindsTokensOutsideTheVocabulary) {
  TempDir dir;
  std::string path = dir.path("bad.bin");
  {
    TokenFileWriter writer(path, TokenFileFormat::NanoGpt);
    std::vector<TokenId> ids = {1, 2, 60000, 3};
    writer.append(ids.data(), ids.size());
    writer.commit();
  }
  TokenFileReader reader = TokenFileReader::open(path);
  EXPECT_EQ(reader.findOutOfVocab(kGpt2VocabSize, 0, 4), 2u);
  EXPECT_EQ(reader.findOutOfVocab(kGpt2VocabSize, 3, 4), 4u);
}

TEST(TokenFile, UnwritableFolderFailsAtOnce) {
  try {
    TokenFileWriter writer("/nonexistent-giga-dir/train.bin",
                           TokenFileFormat::NanoGpt);
    FAIL() << "must not be able to create the file";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent-giga-dir/train.bin"),
              std::string::npos);
  }
}
