//===- AtomicFile.h - write a whole file or nothing -------------*- C++ -*-===//
#ifndef GIGA_RUNTIME_SUPPORT_ATOMICFILE_H
#define GIGA_RUNTIME_SUPPORT_ATOMICFILE_H

#include "runtime/support/Error.h"
#include <cstddef>
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

/// Writes `contents` to a temporary file beside `path`, fsyncs it and renames
/// it over `path`, so a reader sees the old file or the whole new one, never
/// a part. Throws FileError naming the path and the reason.
void writeFileAtomically(const std::string &path, std::string_view contents);

} // namespace giga

#endif // GIGA_RUNTIME_SUPPORT_ATOMICFILE_H
