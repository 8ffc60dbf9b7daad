//===- JsonTest.cpp - duplicate keys, anywhere in a document --------------===//
#include "runtime/support/Json.h"

#include <gtest/gtest.h>

namespace giga {
namespace {

TEST(DuplicateJsonKey, NamesTheFirstDuplicateByItsPath) {
  EXPECT_EQ(duplicateJsonKey(R"({"a": 1, "a": 2})"), "a");
  EXPECT_EQ(duplicateJsonKey(R"({"run": {"lr": 1, "steps": 2, "lr": 3}})"),
            "run.lr");
  EXPECT_EQ(duplicateJsonKey(R"({"x": [{"k": 1}, {"k": 1, "k": 2}]})"),
            "x[].k");
  EXPECT_EQ(duplicateJsonKey(R"({"a": {"b": 1}, "c": 2, "c": {"d": 3}})"), "c");
}

TEST(DuplicateJsonKey, AcceptsEqualKeysInDifferentObjects) {
  EXPECT_EQ(duplicateJsonKey(R"({"a": {"k": 1}, "b": {"k": 2}})"),
            std::nullopt);
  EXPECT_EQ(duplicateJsonKey(R"([{"k": 1}, {"k": 2}])"), std::nullopt);
  EXPECT_EQ(duplicateJsonKey(R"({"model": {"a": 1}, "run": {"a": 1}})"),
            std::nullopt);
  EXPECT_EQ(duplicateJsonKey("7"), std::nullopt);
}

TEST(DuplicateJsonKey, LeavesInvalidJsonToTheParser) {
  EXPECT_EQ(duplicateJsonKey(R"({"a": 1,)"), std::nullopt);
  EXPECT_EQ(duplicateJsonKey(""), std::nullopt);
}

} // namespace
} // namespace giga
