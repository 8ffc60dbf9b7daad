//===- Sha256.h - self-contained SHA-256 -------------------------*- C++
//-*-===//
//
// Pins downloaded tokenizer files and corpora by hash without linking
// OpenSSL (FIPS 180-4).
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_DATA_SHA256_H
#define GIGA_RUNTIME_DATA_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace giga::data {

class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  /// Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> digest();
  /// Finishes the hash and returns it as 64 lowercase hex digits.
  std::string hexDigest();

private:
  void compressBlock(const uint8_t *block);

  std::array<uint32_t, 8> state;
  std::array<uint8_t, 64> pending;
  size_t pendingSize = 0;
  uint64_t totalBytes = 0;
};

std::string sha256Hex(std::string_view bytes);

/// Hex SHA-256 of a file's contents; throws DataError if it cannot be read.
std::string sha256File(const std::string &path);

} // namespace giga::data

#endif // GIGA_RUNTIME_DATA_SHA256_H
