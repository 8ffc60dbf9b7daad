//===- Prepare.h - text corpora to train.bin / val.bin -----------*- C++
//-*-===//
//
// What nanoGPT's prepare.py scripts do, in C++: read text files, folders of
// text files and JSONL ({"text": ...} per line), encode each document with
// GPT-2's tokenizer, end each document with <|endoftext|>, and split the
// result into train and val token files.
//
// Documents are cut into pieces of about 64 KiB at the start of a
// whitespace run (a paragraph break when there is one). Pre-tokenization
// never joins text across such a point, so the ids are exactly those of
// encoding each document whole; the pieces are what threads encode in
// parallel and what the train/val split assigns.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_PREPARE_H
#define GIGA_RUNTIME_DATA_PREPARE_H

#include "runtime/data/TokenFile.h"
#include "runtime/data/Tokenizer.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace giga::data {

/// What to do with bytes that are not UTF-8.
enum class InvalidUtf8Policy {
  Replace, // each bad sequence becomes U+FFFD, with a warning (default)
  Reject,  // stop with an error naming the file and byte offset
  Keep,    // encode the raw bytes (byte-level BPE round-trips them)
};

std::optional<InvalidUtf8Policy>
parseInvalidUtf8Policy(const std::string &name);

/// Applies the invalid-UTF-8 policy to text read from files (prepare) or
/// stdin (encode): rejects with the byte offset, or replaces and warns
/// once per file.
class Utf8Guard {
public:
  Utf8Guard(InvalidUtf8Policy policy, std::ostream *log);

  /// `text` came from `path` at `fileOffset`; `where` prefixes the offset
  /// in messages ("line 3, ").
  void apply(std::string &text, const std::string &path, uint64_t fileOffset,
             const std::string &where);
  /// Reports the file's replacements, once per file.
  void finishFile(const std::string &path);

  uint64_t totalReplaced = 0;

private:
  InvalidUtf8Policy policy;
  std::ostream *log;
  uint64_t fileReplaced = 0;
  uint64_t firstOffset = 0;
  std::string firstWhere;
};

struct PrepareOptions {
  std::vector<std::string> inputs; // files and folders
  std::string outDir;
  /// Fraction of pieces that go to val.bin, in [0, 1).
  double valFraction = 0.1;
  uint64_t seed = 1337;
  TokenFileFormat format = TokenFileFormat::NanoGpt;
  InvalidUtf8Policy invalidUtf8 = InvalidUtf8Policy::Replace;
  unsigned threads = 0;        // 0: one per core
  bool progress = false;       // a progress bar on stderr
  std::ostream *log = nullptr; // warnings; none if null
};

struct PrepareSummary {
  uint64_t files = 0;
  uint64_t documents = 0;
  uint64_t emptyDocuments = 0; // skipped
  uint64_t inputBytes = 0;
  uint64_t replacedSequences = 0; // invalid UTF-8, with Replace
  uint64_t trainPieces = 0, valPieces = 0;
  uint64_t trainTokens = 0, valTokens = 0;
  std::string trainPath, valPath;
  unsigned threads = 0;
  double seconds = 0;
};

/// Throws DataError (a missing input, no text at all, bad JSONL, invalid
/// UTF-8 with Reject, an unwritable --out) before any output file exists
/// under its final name.
PrepareSummary prepare(const Tokenizer &tokenizer,
                       const PrepareOptions &options);

/// Where the next piece of `text` should end: at most `maxBytes` in, at the
/// start of a whitespace run, preferring a paragraph break; text.size() if
/// it is short enough.
size_t findPieceEnd(std::string_view text, size_t maxBytes);

/// Encodes `text` on `threads` threads by cutting it into pieces; the ids
/// equal tokenizer.encode(text).
std::vector<TokenId> encodeParallel(const Tokenizer &tokenizer,
                                    std::string_view text, unsigned threads);

/// Whether the piece with this global index goes to val: systematic
/// sampling, so exactly ~valFraction of the pieces, evenly spread, at an
/// offset drawn from `seed`.
bool pieceGoesToVal(uint64_t pieceIndex, double valFraction, uint64_t seed);

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_PREPARE_H
