//===- Error.cpp - the one base of giga's errors --------------------------===//
#include "runtime/support/Error.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <new>

namespace giga {

std::string oneLine(std::string_view text) {
  std::string line;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !line.empty())
      line += ' ';
    space = false;
    line += c;
  }
  return line;
}

std::string openFailureReason(int error) {
  return std::string(std::strerror(error)) +
         (error == EACCES ? "; check its permissions" : "");
}

namespace {
int report(const char *tool, ErrorKind kind, std::string_view message) {
  std::cout.flush();
  if (kind == ErrorKind::User) {
    std::cerr << tool << ": error: " << oneLine(message) << "\n";
    return 1;
  }
  std::cerr << tool << ": internal error: " << oneLine(message)
            << "; please report it\n";
  return 2;
}
} // namespace

int runMain(const char *tool, const std::function<int()> &body,
            const std::string &outOfMemoryHint) {
  try {
    return body();
  } catch (const Error &error) {
    return report(tool, error.kind(), error.what());
  } catch (const std::bad_alloc &) {
    return report(tool, ErrorKind::User,
                  "out of memory" +
                      (outOfMemoryHint.empty() ? "" : "; " + outOfMemoryHint));
  } catch (const std::exception &error) {
    return report(tool, ErrorKind::Internal, error.what());
  } catch (...) {
    return report(tool, ErrorKind::Internal, "unknown exception");
  }
}

} // namespace giga
