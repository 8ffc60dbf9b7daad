//===- Sha256Test.cpp - the self-contained SHA-256 ------------------------===//

#include "runtime/data/Sha256.h"

#include "DataTestSupport.h"

#include <gtest/gtest.h>

using namespace giga::data;

TEST(Sha256, KnownDigests) {
  // FIPS 180-4 examples.
  EXPECT_EQ(sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesMatchOneShot) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text.push_back(char(i * 7 + 3));
  for (size_t split : {0, 1, 55, 56, 63, 64, 65, 127, 500, 1000}) {
    Sha256 hasher;
    hasher.update(std::string_view(text).substr(0, split));
    hasher.update(std::string_view(text).substr(split));
    EXPECT_EQ(hasher.hexDigest(), sha256Hex(text)) << "split at " << split;
  }
}

TEST(Sha256, TokenizerFilesMatchTheirPins) {
  for (const auto &[path, expected] : gpt2TokenizerPackage().pinnedFiles)
    EXPECT_EQ(
        sha256File(giga::data::test::cachedFile(gpt2TokenizerPackage(), path)),
        expected);
}
