//===- Unicode.cpp - UTF-8 decoding and GPT-2 character classes -----------===//

#include "runtime/data/Unicode.h"

#include <algorithm>
#include <array>

namespace giga::data {

namespace {

struct CodePointRange {
  uint32_t first;
  uint32_t last;
};

#include "runtime/data/UnicodeTables.inc"

template <size_t N>
bool inRanges(const CodePointRange (&ranges)[N], uint32_t codePoint) {
  const CodePointRange *end = ranges + N;
  const CodePointRange *it = std::upper_bound(
      ranges, end, codePoint, [](uint32_t cp, const CodePointRange &range) {
        return cp < range.first;
      });
  return it != ranges && codePoint <= (it - 1)->last;
}

// ASCII dominates real text; a 128-entry table keeps it off the binary search.
constexpr std::array<CharClass, 128> makeAsciiClasses() {
  std::array<CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      classes[c] = CharClass::Letter;
    else if (c >= '0' && c <= '9')
      classes[c] = CharClass::Number;
    else if (c == ' ' || (c >= '\t' && c <= '\r'))
      classes[c] = CharClass::Space;
    else
      classes[c] = CharClass::Other;
  }
  return classes;
}

constexpr std::array<CharClass, 128> kAsciiClasses = makeAsciiClasses();

} // namespace

DecodedChar decodeUtf8(std::string_view text, size_t offset) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  size_t size = text.size();
  unsigned char lead = bytes[offset];
  if (lead < 0x80)
    return {lead, 1, true};
  DecodedChar invalid{0xFFFD, 1, false};
  uint32_t length, codePoint;
  unsigned char secondLow = 0x80, secondHigh = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    codePoint = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    codePoint = lead & 0x0F;
    if (lead == 0xE0)
      secondLow = 0xA0; // overlong
    else if (lead == 0xED)
      secondHigh = 0x9F; // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    codePoint = lead & 0x07;
    if (lead == 0xF0)
      secondLow = 0x90; // overlong
    else if (lead == 0xF4)
      secondHigh = 0x8F; // above U+10FFFF
  } else {
    return invalid;
  }
  for (uint32_t i = 1; i < length; ++i) {
    if (offset + i >= size)
      return invalid;
    unsigned char next = bytes[offset + i];
    unsigned char low = i == 1 ? secondLow : 0x80;
    unsigned char high = i == 1 ? secondHigh : 0xBF;
    if (next < low || next > high)
      return invalid;
    invalid.length = i + 1; // the maximal subpart grows with each good byte
    codePoint = (codePoint << 6) | (next & 0x3F);
  }
  return {codePoint, length, true};
}

bool isLetter(uint32_t codePoint) {
  if (codePoint < 128)
    return kAsciiClasses[codePoint] == CharClass::Letter;
  return inRanges(kLetterRanges, codePoint);
}

bool isNumber(uint32_t codePoint) {
  if (codePoint < 128)
    return kAsciiClasses[codePoint] == CharClass::Number;
  return inRanges(kNumberRanges, codePoint);
}

bool isWhitespace(uint32_t codePoint) {
  if (codePoint < 128)
    return kAsciiClasses[codePoint] == CharClass::Space;
  switch (codePoint) {
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000:
    return true;
  default:
    return codePoint >= 0x2000 && codePoint <= 0x200A;
  }
}

CharClass classify(uint32_t codePoint) {
  if (codePoint < 128)
    return kAsciiClasses[codePoint];
  if (isLetter(codePoint))
    return CharClass::Letter;
  if (isNumber(codePoint))
    return CharClass::Number;
  if (isWhitespace(codePoint))
    return CharClass::Space;
  return CharClass::Other;
}

const char *unicodeTablesVersion() { return kUnicodeVersion; }

Utf8Report checkUtf8(std::string_view text) {
  Utf8Report report;
  for (size_t offset = 0; offset < text.size();) {
    if (static_cast<unsigned char>(text[offset]) < 0x80) {
      ++offset;
      continue;
    }
    DecodedChar decoded = decodeUtf8(text, offset);
    if (!decoded.valid && report.invalidSequences++ == 0)
      report.firstInvalidOffset = offset;
    offset += decoded.length;
  }
  return report;
}

void appendUtf8(std::string &out, uint32_t codePoint) {
  if (codePoint < 0x80) {
    out.push_back(char(codePoint));
  } else if (codePoint < 0x800) {
    out.push_back(char(0xC0 | (codePoint >> 6)));
    out.push_back(char(0x80 | (codePoint & 0x3F)));
  } else if (codePoint < 0x10000) {
    out.push_back(char(0xE0 | (codePoint >> 12)));
    out.push_back(char(0x80 | ((codePoint >> 6) & 0x3F)));
    out.push_back(char(0x80 | (codePoint & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (codePoint >> 18)));
    out.push_back(char(0x80 | ((codePoint >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((codePoint >> 6) & 0x3F)));
    out.push_back(char(0x80 | (codePoint & 0x3F)));
  }
}

std::string replaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    DecodedChar decoded = decodeUtf8(text, offset);
    if (decoded.valid)
      out.append(text.substr(offset, decoded.length));
    else
      appendUtf8(out, 0xFFFD);
    offset += decoded.length;
  }
  return out;
}

} // namespace giga::data
