//===- AtomicFile.cpp - write a whole file or nothing ---------------------===//
#include "runtime/support/AtomicFile.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace giga {
namespace {
[[noreturn]] void fail(const std::string &path, const std::string &action) {
  throw FileError(path + ": cannot " + action + ": " + std::strerror(errno));
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
} // namespace

namespace {
/// Calls write(bytes, size, offset) until all is written; see writeFully.
template <typename Write>
bool writeAll(const void *data, size_t size, uint64_t offset, Write write) {
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = write(bytes, size, offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return false;
    }
    bytes += n;
    size -= size_t(n);
    offset += uint64_t(n);
  }
  return true;
}
} // namespace

bool writeFully(int fd, const void *data, size_t size) {
  return writeAll(data, size, 0, [fd](const char *bytes, size_t n, uint64_t) {
    return ::write(fd, bytes, n);
  });
}

bool writeFullyAt(int fd, const void *data, size_t size, uint64_t offset) {
  return writeAll(data, size, offset,
                  [fd](const char *bytes, size_t n, uint64_t at) {
                    return ::pwrite(fd, bytes, n, off_t(at));
                  });
}

bool readFullyAt(int fd, void *data, size_t size, uint64_t offset) {
  char *bytes = static_cast<char *>(data);
  while (size > 0) {
    ssize_t n = ::pread(fd, bytes, size, off_t(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = 0;
      return false;
    }
    bytes += n;
    size -= size_t(n);
    offset += uint64_t(n);
  }
  return true;
}

void refuseNonRegularTarget(const std::string &path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    throw FileError(path +
                    ": exists and is not a regular file (a device, pipe or "
                    "directory), which writing would replace; give the path "
                    "of a file");
}

std::string temporaryPath(const std::string &path) {
  return path + ".tmp." + std::to_string(::getpid());
}

int removeStaleTemporaries(const std::string &directory) {
  DIR *dir = ::opendir(directory.c_str());
  if (!dir)
    return 0;
  int removed = 0;
  while (const dirent *entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size() ||
        name.find_first_not_of("0123456789", at + 5) != std::string::npos)
      continue;
    long pid = std::strtol(name.c_str() + at + 5, nullptr, 10);
    bool gone = pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
    if (gone && ::unlink((directory + "/" + name).c_str()) == 0)
      ++removed;
  }
  ::closedir(dir);
  return removed;
}

AtomicFileWriter::AtomicFileWriter(const std::string &path)
    : path(path), temporary(temporaryPath(path)) {
  refuseNonRegularTarget(path);
  fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw FileError(path + ": cannot create a file in " + directoryOf(path) +
                    ": " + std::strerror(errno) +
                    "; choose a writable directory");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd >= 0)
    ::close(fd);
  if (!committed)
    ::unlink(temporary.c_str());
}

void AtomicFileWriter::write(const void *data, size_t size) {
  if (!writeFully(fd, data, size))
    fail(path, "write");
}

void AtomicFileWriter::commit() {
  if (::fsync(fd) != 0)
    fail(path, "flush");
  int closing = fd;
  fd = -1;
  if (::close(closing) != 0)
    fail(path, "flush");
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    fail(path, "rename the finished file into place");
  committed = true;
  // Make the rename itself durable.
  int dir =
      ::open(directoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void writeFileAtomically(const std::string &path, std::string_view contents) {
  AtomicFileWriter writer(path);
  writer.write(contents.data(), contents.size());
  writer.commit();
}

} // namespace giga
