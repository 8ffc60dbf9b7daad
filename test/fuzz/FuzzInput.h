//===- FuzzInput.h - what the fuzz targets share ----------------*- C++ -*-===//
//
// The readers under fuzzing open paths (they map or stream files), so a
// target hands them its input as an anonymous in-memory file.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_TEST_FUZZ_FUZZINPUT_H
#define GIGA_TEST_FUZZ_FUZZINPUT_H

#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace giga::fuzz {

/// `data` as a file: an memfd, reached through /proc/self/fd; closed with
/// the object.
class MemoryFile {
public:
  MemoryFile(const uint8_t *data, size_t size) {
    fd = ::memfd_create("giga-fuzz", MFD_CLOEXEC);
    if (fd < 0)
      std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t wrote = ::write(fd, data + done, size - done);
      if (wrote <= 0)
        std::abort();
      done += size_t(wrote);
    }
  }
  ~MemoryFile() { ::close(fd); }
  MemoryFile(const MemoryFile &) = delete;
  MemoryFile &operator=(const MemoryFile &) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }

private:
  int fd = -1;
};

} // namespace giga::fuzz

#endif // GIGA_TEST_FUZZ_FUZZINPUT_H
