//===- SafetensorsTest.cpp - the one safetensors reader and writer --------===//

#include "StoreTestSupport.h"

#include "runtime/store/Safetensors.h"

#include <cstring>

namespace giga::store::test {
namespace {

/// The raw bytes of tensor `name`.
std::vector<char> tensorBytes(const SafetensorsFile &file,
                              const std::string &name) {
  const SafetensorsEntry &entry = file.tensors().at(name);
  std::vector<char> bytes(entry.end - entry.begin);
  file.read(name, 0, bytes.data(), bytes.size());
  return bytes;
}

size_t filesIn(const std::string &dir) {
  return size_t(std::distance(std::filesystem::directory_iterator(dir),
                              std::filesystem::directory_iterator()));
}

TEST(Safetensors, WritesWhatItReads) {
  TempDir dir;
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::vector<int32_t> b = {1, 2, 3};
  float scalar = 0.5f;
  std::string path = dir.path("t.safetensors");
  writeSafetensors(path,
                   {{"a", "F32", {2, 3}, a.data()},
                    {"b", "I32", {3}, b.data()},
                    {"s", "F32", {}, &scalar}},
                   {{"giga", "{\"k\":1}"}});
  SafetensorsFile file(path);
  EXPECT_EQ(file.metadata().at("giga"), "{\"k\":1}");
  const SafetensorsEntry &info = file.tensors().at("a");
  EXPECT_EQ(info.dtype, "F32");
  EXPECT_EQ(info.shape, (std::vector<int64_t>{2, 3}));
  std::vector<char> bytes = tensorBytes(file, "a");
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_EQ(std::memcmp(bytes.data(), a.data(), 24), 0);
  bytes = tensorBytes(file, "b");
  EXPECT_EQ(file.tensors().at("b").dtype, "I32");
  EXPECT_EQ(std::memcmp(bytes.data(), b.data(), 12), 0);
  bytes = tensorBytes(file, "s");
  EXPECT_TRUE(file.tensors().at("s").shape.empty());
  EXPECT_EQ(std::memcmp(bytes.data(), &scalar, 4), 0);
  // The header is padded to 8 bytes, as the safetensors spec recommends.
  std::string raw = readFile(path);
  uint64_t length = 0;
  std::memcpy(&length, raw.data(), 8);
  EXPECT_EQ(length % 8, 0u);
  // Nothing else left behind.
  EXPECT_EQ(filesIn(dir.path()), 1u);
}

TEST(Safetensors, WriterStreamsAndLeavesNothingWithoutCommit) {
  TempDir dir;
  std::vector<float> a = {1, 2, 3, 4};
  std::string path = dir.path("s.safetensors");
  {
    SafetensorsWriter writer(path, {{"a", "F32", {4}}}, {});
    writer.write(a.data(), 8);
    EXPECT_EQ(filesIn(dir.path()), 1u); // the temporary file
  }
  EXPECT_EQ(filesIn(dir.path()), 0u) << "an abandoned write leaves nothing";
  {
    SafetensorsWriter writer(path, {{"a", "F32", {4}}}, {});
    writer.write(a.data(), 8);
    writer.write(a.data() + 2, 8);
    writer.commit();
  }
  SafetensorsFile file(path);
  EXPECT_TRUE(file.metadata().empty());
  EXPECT_EQ(tensorBytes(file, "a").size(), 16u);
  EXPECT_EQ(filesIn(dir.path()), 1u);
}

TEST(Safetensors, RejectsTruncatedAndForeignFiles) {
  TempDir dir;
  std::vector<float> a(100, 1.0f);
  std::string path = dir.path("t.safetensors");
  writeSafetensors(path, {{"a", "F32", {100}, a.data()}}, {});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  expectStoreError([&] { SafetensorsFile file(path); },
                   {path, "is truncated: tensor a ends at data byte 400"});
  writeFile(dir.path("text"), "hello world, not a checkpoint");
  expectStoreError([&] { SafetensorsFile file(dir.path("text")); },
                   {"not a safetensors file", "header length says"});
  expectStoreError([&] { SafetensorsFile file(dir.path("missing")); },
                   {"cannot open", "missing"});
  expectStoreError([&] { SafetensorsFile file(dir.path()); },
                   {"not a regular file"});
}

TEST(Safetensors, UnwritableDirectoryIsAnError) {
  TempDir dir;
  std::string path = dir.path("missing/t.safetensors");
  float x = 1;
  expectStoreError(
      [&] {
        writeSafetensors(path, {{"x", "F32", {}, &x}}, {});
      },
      {path, "cannot create a file in", "choose a writable directory"});
  EXPECT_EQ(filesIn(dir.path()), 0u);
}

} // namespace
} // namespace giga::store::test
