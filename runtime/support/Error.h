//===- Error.h - the one base of giga's errors ------------------*- C++ -*-===//
//
// Every library error (a bad config, artifact, data file, flag, store, ...)
// derives from giga::Error, whose message says what is wrong, where, and how
// to fix it, and whose kind says whose fault it is: the user's (exit 1) or
// ours (exit 2). The tools catch this one type in runMain, so a new error
// class needs no new catch clause.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_SUPPORT_ERROR_H
#define GIGA_RUNTIME_SUPPORT_ERROR_H

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace giga {

enum class ErrorKind {
  User,     // bad input: exit 1, "<tool>: error: ..."
  Internal, // a bug: exit 2, "<tool>: internal error: ...; please report it"
};

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message, ErrorKind kind = ErrorKind::User)
      : std::runtime_error(message), errorKind(kind) {}
  ErrorKind kind() const { return errorKind; }

private:
  ErrorKind errorKind;
};

/// `text` with every run of whitespace (newlines included) as one space: a
/// tool prints each error as one line.
std::string oneLine(std::string_view text);

/// Why opening a file failed with `error` (an errno other than ENOENT,
/// whose fix each reader says itself): the system's reason, and for a
/// permission problem what to check.
std::string openFailureReason(int error);

/// Runs a tool's `body` and returns its exit status; what it throws becomes
/// one line on stderr: a giga::Error by its kind, std::bad_alloc as "out of
/// memory" plus `outOfMemoryHint` (exit 1), anything else as an internal
/// error (exit 2). stdout is flushed first so the line comes last.
int runMain(const char *tool, const std::function<int()> &body,
            const std::string &outOfMemoryHint = "");

} // namespace giga

#endif // GIGA_RUNTIME_SUPPORT_ERROR_H
