//===- Safetensors.cpp - the one safetensors reader and writer ------------===//
#include "runtime/store/Safetensors.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/Json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace giga::store {
namespace {

/// safetensors' own limit on the JSON header.
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

std::string errnoText() { return std::strerror(errno); }

/// Bytes of one element of `dtype`; 0 for a dtype safetensors lacks.
uint64_t elementBytes(const std::string &dtype) {
  static const std::map<std::string, uint64_t> sizes = {
      {"F64", 8}, {"I64", 8}, {"U64", 8},  {"F32", 4}, {"I32", 4},
      {"U32", 4}, {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2},
      {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  auto found = sizes.find(dtype);
  return found == sizes.end() ? 0 : found->second;
}

/// Bytes of `tensor`'s data; 0 for a dtype safetensors lacks.
uint64_t dataBytes(const SafetensorsTensor &tensor) {
  uint64_t bytes = elementBytes(tensor.dtype);
  for (int64_t dim : tensor.shape)
    bytes *= uint64_t(dim);
  return bytes;
}

std::map<std::string, std::string> parseMetadata(const std::string &where,
                                                 const nlohmann::json &value) {
  if (!value.is_object())
    throw StoreError(where + ": __metadata__ is not an object");
  std::map<std::string, std::string> metadata;
  for (auto item = value.begin(); item != value.end(); ++item) {
    if (!item.value().is_string())
      throw StoreError(where + ": __metadata__." + item.key() +
                       " is not a string");
    metadata[item.key()] = item.value().get<std::string>();
  }
  return metadata;
}

/// One header entry: dtype, shape and data_offsets well-formed, and its
/// data inside the `dataSize` bytes after the header.
SafetensorsEntry parseEntry(const std::string &where, const std::string &name,
                            const nlohmann::json &value, uint64_t dataSize) {
  bool wellFormed =
      value.is_object() && value.contains("dtype") &&
      value["dtype"].is_string() && value.contains("shape") &&
      value["shape"].is_array() && value.contains("data_offsets") &&
      value["data_offsets"].is_array() && value["data_offsets"].size() == 2 &&
      value["data_offsets"][0].is_number_unsigned() &&
      value["data_offsets"][1].is_number_unsigned();
  if (wellFormed)
    for (const nlohmann::json &dim : value["shape"])
      wellFormed = wellFormed && dim.is_number_unsigned();
  if (!wellFormed)
    throw StoreError(where + ": the header entry of tensor " + name +
                     " needs dtype, shape and data_offsets [begin, end]");
  SafetensorsEntry entry;
  entry.dtype = value["dtype"].get<std::string>();
  for (const nlohmann::json &dim : value["shape"])
    entry.shape.push_back(dim.get<int64_t>());
  entry.begin = value["data_offsets"][0].get<uint64_t>();
  entry.end = value["data_offsets"][1].get<uint64_t>();
  if (entry.begin > entry.end)
    throw StoreError(where + ": tensor " + name + " has data_offsets [" +
                     std::to_string(entry.begin) + ", " +
                     std::to_string(entry.end) +
                     "], which end before they begin");
  if (entry.end > dataSize)
    throw StoreError(where + " is truncated: tensor " + name +
                     " ends at data byte " + std::to_string(entry.end) +
                     ", but the file holds " + std::to_string(dataSize) +
                     " bytes of data");
  return entry;
}

} // namespace

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

struct SafetensorsFile::Impl {
  std::string path;
  std::string where; // "checkpoint <path>", for messages
  int fd = -1;
  uint64_t dataStart = 0;
  std::map<std::string, SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;

  ~Impl() {
    if (fd >= 0)
      ::close(fd);
  }
  /// The header's JSON text, its length checked against the file's size.
  std::string readHeaderText(uint64_t fileSize);
  void parseHeader(const std::string &text, uint64_t dataSize);
};

std::string SafetensorsFile::Impl::readHeaderText(uint64_t fileSize) {
  unsigned char lengthBytes[8];
  if (fileSize < 8 || !readFullyAt(fd, lengthBytes, 8, 0))
    throw StoreError(where + " is truncated: it has " +
                     std::to_string(fileSize) +
                     " bytes, not even safetensors' 8-byte header length");
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i)
    length |= uint64_t(lengthBytes[i]) << (8 * i);
  if (length > kMaxHeaderBytes || length > fileSize - 8)
    throw StoreError(where +
                     " is truncated or not a safetensors file: its header "
                     "length says " +
                     std::to_string(length) + " bytes, but the file has " +
                     std::to_string(fileSize) +
                     " bytes; pass a file written by gigarun or "
                     "safetensors.torch.save_file");
  std::string text(length, '\0');
  if (!readFullyAt(fd, text.data(), length, 8))
    throw StoreError(where + " is truncated inside its header");
  dataStart = 8 + length;
  return text;
}

void SafetensorsFile::Impl::parseHeader(const std::string &text,
                                        uint64_t dataSize) {
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &error) {
    throw StoreError(where + ": the safetensors header is not valid JSON (" +
                     error.what() + "); the file is damaged");
  }
  if (auto key = duplicateJsonKey(text))
    throw StoreError(where + ": the safetensors header names " + *key +
                     " twice; the file is damaged or was not written by a "
                     "safetensors writer");
  if (!header.is_object())
    throw StoreError(where + ": the safetensors header is not a JSON object");
  for (auto item = header.begin(); item != header.end(); ++item) {
    if (item.key() == "__metadata__")
      metadata = parseMetadata(where, item.value());
    else
      tensors[item.key()] =
          parseEntry(where, item.key(), item.value(), dataSize);
  }
  // Two tensors sharing bytes would alias: writing one changes the other.
  std::vector<std::pair<const std::string *, const SafetensorsEntry *>> order;
  for (const auto &[name, entry] : tensors)
    if (entry.end > entry.begin)
      order.push_back({&name, &entry});
  std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
    return a.second->begin < b.second->begin;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i].second->begin < order[i - 1].second->end)
      throw StoreError(
          where + ": tensors " + *order[i - 1].first + " and " +
          *order[i].first + " overlap in the data section (data_offsets [" +
          std::to_string(order[i - 1].second->begin) + ", " +
          std::to_string(order[i - 1].second->end) + ") and [" +
          std::to_string(order[i].second->begin) + ", " +
          std::to_string(order[i].second->end) + ")); the file is damaged");
}

SafetensorsFile::SafetensorsFile(const std::string &path)
    : impl(std::make_unique<Impl>()) {
  impl->path = path;
  impl->where = "checkpoint " + path;
  // O_NONBLOCK: a FIFO without a writer must not block the open before
  // the check below refuses it (on a regular file the flag does nothing).
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (impl->fd < 0)
    throw StoreError("cannot open " + impl->where + ": " + errnoText() +
                     "; check the path");
  struct stat info;
  if (::fstat(impl->fd, &info) != 0 || !S_ISREG(info.st_mode))
    throw StoreError(impl->where + " is not a regular file");
  uint64_t fileSize = uint64_t(info.st_size);
  std::string text = impl->readHeaderText(fileSize);
  impl->parseHeader(text, fileSize - impl->dataStart);
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile &&) noexcept = default;
SafetensorsFile &
SafetensorsFile::operator=(SafetensorsFile &&) noexcept = default;

const std::string &SafetensorsFile::path() const { return impl->path; }

const std::map<std::string, SafetensorsEntry> &
SafetensorsFile::tensors() const {
  return impl->tensors;
}

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  auto found = impl->tensors.find(name);
  return found == impl->tensors.end() ? nullptr : &found->second;
}

const std::map<std::string, std::string> &SafetensorsFile::metadata() const {
  return impl->metadata;
}

void SafetensorsFile::read(const std::string &name, uint64_t offset, void *out,
                           size_t size) const {
  const SafetensorsEntry *entry = find(name);
  if (!entry || offset + size > entry->end - entry->begin)
    throw StoreError(impl->where + ": read of " + std::to_string(size) +
                         " bytes at " + std::to_string(offset) + " of tensor " +
                         name + " is outside it",
                     ErrorKind::Internal);
  if (!readFullyAt(impl->fd, out, size,
                   impl->dataStart + entry->begin + offset))
    throw StoreError(impl->where + " is truncated: reading tensor " + name +
                     " failed (" + errnoText() + ")");
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

/// The header text of `tensors` and `metadata`, padded to 8 bytes; `totalBytes`
/// gets the length of the data that follows.
std::string encodeHeader(const std::string &path,
                         const std::vector<SafetensorsTensor> &tensors,
                         const std::map<std::string, std::string> &metadata,
                         uint64_t &totalBytes) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const SafetensorsTensor &tensor : tensors) {
    if (elementBytes(tensor.dtype) == 0)
      throw StoreError("cannot write " + path + ": tensor " + tensor.name +
                           " has dtype '" + tensor.dtype +
                           "', which safetensors does not have",
                       ErrorKind::Internal);
    uint64_t bytes = dataBytes(tensor);
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  totalBytes = offset;
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception &error) {
    throw StoreError("cannot write " + path +
                     ": the header cannot be encoded (" + error.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

} // namespace

struct SafetensorsWriter::Impl {
  std::optional<AtomicFileWriter> file;
  uint64_t expected = 0, written = 0;
  std::string path;

  // The file's errors, as the store's.
  template <typename F> void io(F &&f) {
    try {
      f();
    } catch (const FileError &error) {
      throw StoreError(std::string("cannot write ") + error.what());
    }
  }
};

SafetensorsWriter::SafetensorsWriter(
    const std::string &path, const std::vector<SafetensorsTensor> &tensors,
    const std::map<std::string, std::string> &metadata)
    : impl(std::make_unique<Impl>()) {
  Impl &w = *impl;
  w.path = path;
  std::string header = encodeHeader(path, tensors, metadata, w.expected);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(uint64_t(header.size()) >> (8 * i));
  w.io([&] {
    w.file.emplace(path);
    w.file->write(length, 8);
    w.file->write(header.data(), header.size());
  });
}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::write(const void *data, size_t size) {
  Impl &w = *impl;
  if (w.written + size > w.expected)
    throw StoreError("cannot write " + w.path +
                         ": more data than its header declares",
                     ErrorKind::Internal);
  w.io([&] { w.file->write(data, size); });
  w.written += size;
}

void SafetensorsWriter::commit() {
  Impl &w = *impl;
  if (w.written != w.expected)
    throw StoreError("cannot write " + w.path + ": " +
                         std::to_string(w.written) + " bytes of data, but " +
                         "its header declares " + std::to_string(w.expected),
                     ErrorKind::Internal);
  w.io([&] { w.file->commit(); });
}

void writeSafetensors(const std::string &path,
                      const std::vector<SafetensorsTensor> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  SafetensorsWriter writer(path, tensors, metadata);
  for (const SafetensorsTensor &tensor : tensors)
    writer.write(tensor.data, size_t(dataBytes(tensor)));
  writer.commit();
}

} // namespace giga::store
