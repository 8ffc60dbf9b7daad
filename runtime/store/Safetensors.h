//===- Safetensors.h - the one safetensors reader and writer ----*- C++ -*-===//
//
// safetensors (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header (every tensor's dtype, shape
// and data_offsets, and an optional "__metadata__" of strings), then the
// raw little-endian data. The weight store's checkpoints and the trainer's
// traces are written and read through this file only: the writer streams
// the data into a temporary name, fsyncs it and renames it into place; the
// reader checks the whole header before any data is read. docs/store.md.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_STORE_SAFETENSORS_H
#define GIGA_RUNTIME_STORE_SAFETENSORS_H

#include "runtime/store/StoreError.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace giga::store {

/// One tensor of a safetensors header.
struct SafetensorsEntry {
  std::string dtype;           // "F32", "I32", ...
  std::vector<int64_t> shape;  // [] for a scalar
  uint64_t begin = 0, end = 0; // data_offsets: bytes into the data section
};

/// A safetensors file open for reading. The constructor reads and checks
/// the whole header: its length against the file (at most 100 MiB, as
/// safetensors), JSON syntax, `__metadata__` (an object of strings), and
/// every entry's dtype, shape and data_offsets, which must lie inside the
/// file. Throws StoreError naming the file and the first problem. The file
/// stays open (the checked file is the one read) until destroyed.
class SafetensorsFile {
public:
  explicit SafetensorsFile(const std::string &path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile &&) noexcept;
  SafetensorsFile &operator=(SafetensorsFile &&) noexcept;

  const std::string &path() const;
  const std::map<std::string, SafetensorsEntry> &tensors() const;
  /// The entry of `name`, or null.
  const SafetensorsEntry *find(const std::string &name) const;
  /// `__metadata__`, empty if the file has none.
  const std::map<std::string, std::string> &metadata() const;
  /// Reads `size` bytes of tensor `name`'s data, from byte `offset` of it.
  /// Throws StoreError if the file ends first.
  void read(const std::string &name, uint64_t offset, void *out,
            size_t size) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// A tensor to write. `data` holds its bytes for writeSafetensors; it is
/// not used by SafetensorsWriter, whose caller streams the data.
struct SafetensorsTensor {
  std::string name;
  std::string dtype; // F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, ...
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

/// Writes a safetensors file atomically, streaming the data: the header
/// (`metadata` first, as `__metadata__` if not empty, then `tensors`,
/// contiguous in this order, padded with spaces to a multiple of 8) goes to
/// `<path>.tmp.<pid>` at construction, the data through write(), and
/// commit() fsyncs the file, renames it over `path` and fsyncs the
/// directory. Destroyed without commit() (an error on the way), it removes
/// the temporary file and `path` is untouched. Throws StoreError.
class SafetensorsWriter {
public:
  SafetensorsWriter(const std::string &path,
                    const std::vector<SafetensorsTensor> &tensors,
                    const std::map<std::string, std::string> &metadata);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter &) = delete;
  SafetensorsWriter &operator=(const SafetensorsWriter &) = delete;

  /// Appends the next `size` bytes of tensor data, in the order of the
  /// tensors given to the constructor.
  void write(const void *data, size_t size);
  /// After all the data: makes the file durable and puts it in place.
  void commit();

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Writes `tensors` (each with its `data`) and `metadata` in one go, as
/// SafetensorsWriter does.
void writeSafetensors(const std::string &path,
                      const std::vector<SafetensorsTensor> &tensors,
                      const std::map<std::string, std::string> &metadata);

} // namespace giga::store

#endif // GIGA_RUNTIME_STORE_SAFETENSORS_H
