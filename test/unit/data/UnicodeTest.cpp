//===- UnicodeTest.cpp - UTF-8 decoding and GPT-2 character classes -------===//

#include "runtime/data/Unicode.h"

#include <gtest/gtest.h>

using namespace giga::data;

TEST(Unicode, TablesRecordTheirVersion) {
  EXPECT_STREQ(unicodeTablesVersion(), "14.0.0");
}

TEST(Unicode, DecodesValidSequences) {
  std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x8C\x8D";
  DecodedChar a = decodeUtf8(text, 0);
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.codePoint, 'a');
  EXPECT_EQ(a.length, 1u);
  DecodedChar e = decodeUtf8(text, 1);
  EXPECT_EQ(e.codePoint, 0xE9u);
  EXPECT_EQ(e.length, 2u);
  DecodedChar han = decodeUtf8(text, 3);
  EXPECT_EQ(han.codePoint, 0x4E2Du);
  EXPECT_EQ(han.length, 3u);
  DecodedChar globe = decodeUtf8(text, 6);
  EXPECT_EQ(globe.codePoint, 0x1F30Du);
  EXPECT_EQ(globe.length, 4u);
}

TEST(Unicode, RejectsInvalidSequencesByMaximalSubpart) {
  struct Case {
    std::string bytes;
    uint32_t length;
  } cases[] = {
      {"\x80", 1},             // stray continuation
      {"\xC0\x80", 1},         // overlong lead
      {"\xED\xA0\x80", 1},     // surrogate: ED is fine, A0 is not
      {"\xF5\x80\x80\x80", 1}, // past U+10FFFF
      {"\xE2\x82", 2},         // truncated euro sign
      {"\xE2\x82x", 2},        // interrupted
      {"\xF0\x9F\x8C", 3},     // truncated emoji
      {"\xFF", 1},
  };
  for (const Case &c : cases) {
    DecodedChar decoded = decodeUtf8(c.bytes, 0);
    EXPECT_FALSE(decoded.valid) << testing::PrintToString(c.bytes);
    EXPECT_EQ(decoded.length, c.length) << testing::PrintToString(c.bytes);
  }
  Utf8Report report = checkUtf8("ok\xE2\x82 and \xFF");
  EXPECT_EQ(report.invalidSequences, 2u);
  EXPECT_EQ(report.firstInvalidOffset, 2u);
  EXPECT_EQ(replaceInvalidUtf8("ok\xE2\x82 and \xFF"),
            "ok\xEF\xBF\xBD and \xEF\xBF\xBD");
}

TEST(Unicode, ClassifiesLettersNumbersAndSpaces) {
  EXPECT_EQ(classify('a'), CharClass::Letter);
  EXPECT_EQ(classify(0xE9), CharClass::Letter);    // é
  EXPECT_EQ(classify(0x4E2D), CharClass::Letter);  // 中 (Lo)
  EXPECT_EQ(classify(0x02B0), CharClass::Letter);  // ʰ (Lm)
  EXPECT_EQ(classify(0x01C5), CharClass::Letter);  // ǅ (Lt)
  EXPECT_EQ(classify(0x1E900), CharClass::Letter); // Adlam (Lu, astral)
  EXPECT_EQ(classify('7'), CharClass::Number);
  EXPECT_EQ(classify(0x0663), CharClass::Number); // Arabic-Indic 3 (Nd)
  EXPECT_EQ(classify(0x00BD), CharClass::Number); // ½ (No)
  EXPECT_EQ(classify(0x2167), CharClass::Number); // Roman VIII (Nl)
  EXPECT_EQ(classify(0x00B2), CharClass::Number); // ² (No)
  for (uint32_t space :
       {0x20u, 0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x85u, 0xA0u, 0x1680u,
        0x2000u, 0x200Au, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u})
    EXPECT_EQ(classify(space), CharClass::Space) << std::hex << space;
  EXPECT_EQ(classify(0x200B), CharClass::Other);  // zero width space: not \s
  EXPECT_EQ(classify(0x0301), CharClass::Other);  // combining acute (Mn)
  EXPECT_EQ(classify(0x20AC), CharClass::Other);  // €
  EXPECT_EQ(classify(0x1F30D), CharClass::Other); // 🌍
  EXPECT_EQ(classify('\''), CharClass::Other);
  EXPECT_EQ(classify(0x10FFFF), CharClass::Other);
}
