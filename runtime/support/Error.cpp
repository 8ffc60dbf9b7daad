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
  const bool user = kind == ErrorKind::User;
  // One write: under mpirun a line written in pieces can be split by
  // mpirun's own messages (MPI_ABORT's) arriving between them.
  std::cerr << std::string(tool) + (user ? ": error: " : ": internal error: ") +
                   oneLine(message) + (user ? "\n" : "; please report it\n")
            << std::flush;
  return user ? 1 : 2;
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
