//===- Unicode.h - UTF-8 decoding and GPT-2 character classes ----*- C++
//-*-===//
//
// GPT-2's pre-tokenizer needs three Unicode classes: \p{L} (letters), \p{N}
// (numbers) and \s (White_Space). They come from generated range tables
// (UnicodeTables.inc, made by gen_unicode_tables.py) so no ICU is needed.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_UNICODE_H
#define GIGA_RUNTIME_DATA_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace giga::data {

enum class CharClass : uint8_t { Letter, Number, Space, Other };

struct DecodedChar {
  uint32_t codePoint; // U+FFFD when !valid
  uint32_t length;    // bytes consumed, >= 1
  bool valid;
};

/// Decodes one character at `text[offset]` (offset < text.size()). An invalid
/// sequence consumes its maximal subpart (WHATWG/Unicode "substitution of
/// maximal subparts"), so each bad sequence becomes one replacement.
DecodedChar decodeUtf8(std::string_view text, size_t offset);

bool isLetter(uint32_t codePoint);
bool isNumber(uint32_t codePoint);
/// Unicode White_Space, which is what \s matches in GPT-2's regex engines.
bool isWhitespace(uint32_t codePoint);
CharClass classify(uint32_t codePoint);

/// Unicode version of the letter/number tables.
const char *unicodeTablesVersion();

struct Utf8Report {
  size_t invalidSequences = 0;
  size_t firstInvalidOffset = 0; // meaningful when invalidSequences > 0
};

Utf8Report checkUtf8(std::string_view text);

/// Copy of `text` with each invalid sequence replaced by U+FFFD.
std::string replaceInvalidUtf8(std::string_view text);

void appendUtf8(std::string &out, uint32_t codePoint);

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_UNICODE_H
