//===- AtomicFile.h - write a whole file or nothing -------------*- C++ -*-===//
#ifndef GIGA_RUNTIME_SUPPORT_ATOMICFILE_H
#define GIGA_RUNTIME_SUPPORT_ATOMICFILE_H

#include "runtime/support/Error.h"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace giga {

class FileError : public Error {
public:
  using Error::Error;
};

/// Writes all of `data` to `fd`, retrying interrupted and partial writes;
/// false with errno set if it cannot (EIO for a write that makes no
/// progress).
bool writeFully(int fd, const void *data, size_t size);

/// writeFully at `offset`, with pwrite.
bool writeFullyAt(int fd, const void *data, size_t size, uint64_t offset);

/// Reads exactly `size` bytes of `fd` at `offset`, retrying interrupted and
/// partial reads; false at the end of the file or on an error (errno set,
/// 0 at the end).
bool readFullyAt(int fd, void *data, size_t size, uint64_t offset);

/// A file streamed into a temporary beside `path` (temporaryPath) and put in
/// place by commit(): fsync, rename over `path`, fsync of the directory, so
/// a reader sees the old file or the whole new one, never a part. Destroyed
/// without commit() (an error on the way), it removes the temporary and
/// `path` is untouched. Throws FileError naming `path` and the reason, and
/// for a `path` that exists and is not a regular file (a device, a FIFO, a
/// directory): renaming over it would replace it (as root, -o /dev/null
/// would replace /dev/null).
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(const std::string &path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  void write(const void *data, size_t size);
  void commit();

private:
  std::string path, temporary;
  int fd = -1;
  bool committed = false;
};

/// Writes `contents` to `path` in one go through an AtomicFileWriter.
void writeFileAtomically(const std::string &path, std::string_view contents);

/// Throws FileError if `path` exists and is not a regular file (see
/// writeFileAtomically).
void refuseNonRegularTarget(const std::string &path);

/// The name of the temporary file this process writes `path` through:
/// `path.tmp.<pid>`.
std::string temporaryPath(const std::string &path);

/// Removes the files in `directory` named `<anything>.tmp.<pid>` whose
/// process no longer runs: the temporaries of a writer that was killed
/// (kill -9, a crash) before it could rename or remove them. A live
/// process's, or one whose pid was reused, are left alone. Returns how many
/// were removed; a missing directory is none.
int removeStaleTemporaries(const std::string &directory);

} // namespace giga

#endif // GIGA_RUNTIME_SUPPORT_ATOMICFILE_H
