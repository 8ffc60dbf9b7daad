//===- ErrorTest.cpp - one error base, one catch in the tools -------------===//

#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <new>

namespace giga {
namespace {

TEST(Error, UserByDefault) {
  EXPECT_EQ(Error("bad").kind(), ErrorKind::User);
  EXPECT_EQ(Error("bug", ErrorKind::Internal).kind(), ErrorKind::Internal);
}

TEST(Error, OneLineCollapsesWhitespace) {
  EXPECT_EQ(oneLine("  a.json:3:5:\n  fix:\tuse x  "),
            "a.json:3:5: fix: use x");
  EXPECT_EQ(oneLine(""), "");
}

TEST(RunMain, ExitCodeFollowsTheKindAndTheMessageIsOneLine) {
  EXPECT_EQ(runMain("tool", [] { return 0; }), 0);
  EXPECT_EQ(runMain("tool", [] { return 3; }), 3);

  testing::internal::CaptureStderr();
  EXPECT_EQ(runMain("tool", []() -> int { throw Error("a.json:\n  no"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: error: a.json: no\n");

  testing::internal::CaptureStderr();
  EXPECT_EQ(
      runMain("tool", []() -> int { throw Error("x", ErrorKind::Internal); }),
      2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: internal error: x; please report it\n");

  testing::internal::CaptureStderr();
  EXPECT_EQ(runMain("tool", []() -> int { throw std::logic_error("oops"); }),
            2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: internal error: oops; please report it\n");

  testing::internal::CaptureStderr();
  EXPECT_EQ(runMain(
                "tool", []() -> int { throw std::bad_alloc(); },
                "use a smaller batch"),
            1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: error: out of memory; use a smaller batch\n");

  testing::internal::CaptureStderr();
  EXPECT_EQ(runMain("tool", []() -> int { throw 42; }), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "tool: internal error: unknown exception; please report it\n");
}

} // namespace
} // namespace giga
