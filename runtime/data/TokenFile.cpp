//===- TokenFile.cpp - nanoGPT and llm.c token files ----------------------===//

#include "runtime/data/TokenFile.h"
#include "runtime/support/AtomicFile.h"

#include "runtime/data/DataError.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace giga::data {

namespace {

// Both formats are little-endian; this keeps the code honest about it.
bool hostIsLittleEndian() {
  const uint16_t probe = 1;
  return *reinterpret_cast<const uint8_t *>(&probe) == 1;
}

std::string errnoText() { return std::strerror(errno); }

std::string folderOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

} // namespace

std::optional<TokenFileFormat> parseTokenFileFormat(const std::string &name) {
  if (name == "nanogpt")
    return TokenFileFormat::NanoGpt;
  if (name == "llmc")
    return TokenFileFormat::LlmC;
  return std::nullopt;
}

const char *tokenFileFormatName(TokenFileFormat format) {
  return format == TokenFileFormat::NanoGpt ? "nanogpt" : "llmc";
}

TokenFileWriter::TokenFileWriter(std::string path, TokenFileFormat format)
    : finalPath(std::move(path)), format(format) {
  if (!hostIsLittleEndian())
    throw DataError("token files are little-endian and this host is not; "
                    "giga does not support big-endian hosts");
  try {
    refuseNonRegularTarget(finalPath);
  } catch (const FileError &error) {
    throw DataError(std::string("cannot write ") + error.what());
  }
  size_t slash = finalPath.rfind('/');
  std::string name =
      slash == std::string::npos ? finalPath : finalPath.substr(slash + 1);
  tempPath =
      folderOf(finalPath) + "/." + name + ".tmp." + std::to_string(getpid());
  fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw DataError("cannot write " + finalPath + ": " + errnoText() +
                    "\n  fix: choose an output folder you can write to");
  if (format == TokenFileFormat::LlmC) {
    // Placeholder header; commit() fills in the count.
    std::vector<int32_t> header(kLlmcHeaderInts, 0);
    writeAll(header.data(), kLlmcHeaderBytes);
  }
  buffer.reserve(1 << 16);
}

TokenFileWriter::~TokenFileWriter() {
  if (fd >= 0)
    ::close(fd);
  if (!committed)
    ::unlink(tempPath.c_str());
}

void TokenFileWriter::writeAll(const void *data, size_t size) {
  if (!writeFully(fd, data, size))
    throw DataError("cannot write " + finalPath + ": " + errnoText() +
                    "\n  fix: free disk space or choose another output "
                    "folder");
}

void TokenFileWriter::flush() {
  writeAll(buffer.data(), buffer.size() * sizeof(uint16_t));
  buffer.clear();
}

void TokenFileWriter::append(const TokenId *ids, size_t idCount) {
  for (size_t i = 0; i < idCount; ++i) {
    if (ids[i] > 0xFFFF)
      throw DataError("token id " + std::to_string(ids[i]) +
                      " does not fit the uint16 of " + finalPath);
    buffer.push_back(uint16_t(ids[i]));
    if (buffer.size() == buffer.capacity())
      flush();
  }
  count += idCount;
}

void TokenFileWriter::commit() {
  flush();
  if (format == TokenFileFormat::LlmC) {
    if (count > uint64_t(INT32_MAX))
      throw DataError(finalPath + " would hold " + std::to_string(count) +
                      " tokens, more than llm.c's int32 header can count"
                      "\n  fix: split the input, or use --format nanogpt");
    int32_t header[3] = {kLlmcMagic, kLlmcVersionUint16, int32_t(count)};
    if (::pwrite(fd, header, sizeof header, 0) != ssize_t(sizeof header))
      throw DataError("cannot write " + finalPath + ": " + errnoText());
  }
  if (::fsync(fd) != 0)
    throw DataError("cannot write " + finalPath + ": " + errnoText());
  ::close(fd);
  fd = -1;
  if (::rename(tempPath.c_str(), finalPath.c_str()) != 0)
    throw DataError("cannot rename " + tempPath + " to " + finalPath + ": " +
                    errnoText());
  committed = true;
}

TokenFileReader TokenFileReader::open(const std::string &path) {
  if (!hostIsLittleEndian())
    throw DataError("token files are little-endian and this host is not");
  TokenFileReader reader;
  reader.filePath = path;
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever
  // before the check below could refuse it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw DataError("cannot open token file " + path + ": " + errnoText() +
                    "\n  fix: check the path; `gigatok prepare` makes "
                    "train.bin and val.bin");
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw DataError(path +
                    " is not a regular file (a pipe, device or directory); "
                    "give a token file, e.g. the train.bin of gigatok prepare");
  }
  size_t size = size_t(info.st_size);
  if (size > 0) {
    reader.mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (reader.mapping == MAP_FAILED) {
      reader.mapping = nullptr;
      ::close(fd);
      throw DataError("cannot map " + path + ": " + errnoText());
    }
    reader.mappingSize = size;
  }
  ::close(fd);

  const auto *bytes = static_cast<const uint8_t *>(reader.mapping);
  int32_t firstInt = 0;
  if (size >= 4)
    std::memcpy(&firstInt, bytes, 4);
  if (size >= kLlmcHeaderBytes && firstInt == kLlmcMagic) {
    int32_t header[3];
    std::memcpy(header, bytes, sizeof header);
    if (header[1] != kLlmcVersionUint16)
      throw DataError(path + " is an llm.c file of version " +
                      std::to_string(header[1]) +
                      "; only version 1 (uint16 GPT-2 tokens) is supported");
    uint64_t expected = kLlmcHeaderBytes + uint64_t(uint32_t(header[2])) * 2;
    if (header[2] < 0 || expected != size)
      throw DataError(path + ": the llm.c header says " +
                      std::to_string(header[2]) + " tokens, but the file has " +
                      std::to_string(size) + " bytes (expected " +
                      std::to_string(expected) +
                      "); the file is truncated or damaged");
    reader.fileFormat = TokenFileFormat::LlmC;
    reader.tokens =
        reinterpret_cast<const uint16_t *>(bytes + kLlmcHeaderBytes);
    reader.tokenCount = uint64_t(header[2]);
  } else {
    if (size % 2 != 0)
      throw DataError(path + " has an odd size (" + std::to_string(size) +
                      " bytes), so it is not a file of uint16 tokens");
    reader.fileFormat = TokenFileFormat::NanoGpt;
    reader.tokens = reinterpret_cast<const uint16_t *>(bytes);
    reader.tokenCount = size / 2;
  }
  return reader;
}

TokenFileReader::TokenFileReader(TokenFileReader &&other) noexcept
    : filePath(std::move(other.filePath)), fileFormat(other.fileFormat),
      mapping(other.mapping), mappingSize(other.mappingSize),
      tokens(other.tokens), tokenCount(other.tokenCount) {
  other.mapping = nullptr;
  other.mappingSize = 0;
}

TokenFileReader::~TokenFileReader() {
  if (mapping)
    ::munmap(mapping, mappingSize);
}

namespace {
// A mapped file truncated in place (numpy's tofile() does that) faults with
// SIGBUS on the next read past its new end. Reads of the mapping run under a
// guard that turns the fault into a DataError; a SIGBUS anywhere else still
// kills the process as before. Between sigsetjmp and the read nothing with a
// destructor is made, so the jump skips none.
// volatile: the stores around an inlined read must not be dropped as dead.
thread_local sigjmp_buf *volatile activeGuard = nullptr;

void onSigbus(int signal) {
  if (activeGuard)
    siglongjmp(*activeGuard, 1);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

template <typename Read> void guardedRead(const std::string &path, Read read) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction action = {};
    action.sa_handler = onSigbus;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_NODEFER;
    ::sigaction(SIGBUS, &action, nullptr);
  });
  sigjmp_buf here;
  // No mask to save: SA_NODEFER leaves SIGBUS unblocked in the handler, and
  // saving it would cost a system call a read.
  if (sigsetjmp(here, 0) != 0) {
    activeGuard = nullptr;
    throw DataError(path + " shrank while it was being read (truncated in "
                           "place?); write token files under a new name and "
                           "rename them, as gigatok prepare does, then run "
                           "again (--resume continues from a checkpoint)");
  }
  activeGuard = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  read();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  activeGuard = nullptr;
}
} // namespace

std::vector<TokenId> TokenFileReader::read(uint64_t offset,
                                           uint64_t count) const {
  if (offset > tokenCount || (offset == tokenCount && count > 0))
    throw DataError(filePath + " has " + std::to_string(tokenCount) +
                    " tokens; offset " + std::to_string(offset) +
                    " is past the end");
  uint64_t end = offset + std::min(count, tokenCount - offset);
  std::vector<TokenId> ids(end - offset);
  TokenId *out = ids.data();
  guardedRead(filePath, [&] {
    for (uint64_t i = offset; i < end; ++i)
      out[i - offset] = tokens[i];
  });
  return ids;
}

uint64_t TokenFileReader::findOutOfVocab(uint32_t vocabSize, uint64_t begin,
                                         uint64_t end) const {
  end = std::min(end, tokenCount);
  uint64_t found = end;
  guardedRead(filePath, [&] {
    for (uint64_t i = begin; i < end; ++i)
      if (tokens[i] >= vocabSize) {
        found = i;
        return;
      }
  });
  return found;
}

} // namespace giga::data
