//===- TokenFile.h - nanoGPT and llm.c token files ---------------*- C++
//-*-===//
//
// Two on-disk formats of GPT-2 token ids, both little-endian uint16:
//  - nanoGPT: the raw ids, nothing else (np.memmap(dtype=np.uint16)).
//  - llm.c:   a header of 256 int32 (magic 20240520, version 1, token count,
//             then zeros), then the ids.
// Writers go to a temporary file beside the destination and rename it on
// commit(), so a crash or an error never leaves a half-written file.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_TOKENFILE_H
#define GIGA_RUNTIME_DATA_TOKENFILE_H

#include "runtime/data/Tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace giga::data {

enum class TokenFileFormat { NanoGpt, LlmC };

constexpr int32_t kLlmcMagic = 20240520;
constexpr int32_t kLlmcVersionUint16 = 1;
constexpr size_t kLlmcHeaderInts = 256;
constexpr size_t kLlmcHeaderBytes = kLlmcHeaderInts * sizeof(int32_t);

/// "nanogpt" or "llmc".
std::optional<TokenFileFormat> parseTokenFileFormat(const std::string &name);
const char *tokenFileFormatName(TokenFileFormat format);

class TokenFileWriter {
public:
  /// Creates the temporary file now, so an unwritable folder fails before
  /// any work is done.
  TokenFileWriter(std::string path, TokenFileFormat format);
  /// Removes the temporary file unless commit() succeeded.
  ~TokenFileWriter();
  TokenFileWriter(const TokenFileWriter &) = delete;
  TokenFileWriter &operator=(const TokenFileWriter &) = delete;

  /// Ids must fit in uint16 (GPT-2's 50257 do).
  void append(const TokenId *ids, size_t count);
  void append(TokenId id) { append(&id, 1); }
  /// Writes the header (llm.c), fsyncs and renames into place.
  void commit();

  uint64_t tokenCount() const { return count; }
  const std::string &path() const { return finalPath; }

private:
  void flush();
  void writeAll(const void *data, size_t size);

  std::string finalPath;
  std::string tempPath;
  TokenFileFormat format;
  int fd = -1;
  uint64_t count = 0;
  std::vector<uint16_t> buffer;
  bool committed = false;
};

/// A token file mapped read-only; the format is detected from the content
/// (an llm.c magic cannot start a nanoGPT file of GPT-2 ids: 20240520 as two
/// uint16 is 53928, past the vocabulary).
class TokenFileReader {
public:
  /// Throws DataError naming the file for a missing, unreadable or malformed
  /// file.
  static TokenFileReader open(const std::string &path);
  TokenFileReader(TokenFileReader &&other) noexcept;
  TokenFileReader &operator=(TokenFileReader &&other) = delete;
  TokenFileReader(const TokenFileReader &) = delete;
  ~TokenFileReader();

  TokenFileFormat format() const { return fileFormat; }
  uint64_t size() const { return tokenCount; }
  /// One id, read from the mapping unguarded: a file truncated meanwhile
  /// kills the process (SIGBUS). read() is the guarded way.
  TokenId at(uint64_t index) const { return tokens[index]; }
  /// Ids [offset, offset + count) clipped to the file; throws DataError if
  /// offset is past the end, or if the file shrank since it was opened.
  std::vector<TokenId> read(uint64_t offset, uint64_t count) const;
  /// Index of the first id >= vocabSize in [begin, end), or end.
  uint64_t findOutOfVocab(uint32_t vocabSize, uint64_t begin,
                          uint64_t end) const;
  const std::string &path() const { return filePath; }

private:
  TokenFileReader() = default;

  std::string filePath;
  TokenFileFormat fileFormat = TokenFileFormat::NanoGpt;
  void *mapping = nullptr;
  size_t mappingSize = 0;
  const uint16_t *tokens = nullptr;
  uint64_t tokenCount = 0;
};

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_TOKENFILE_H
