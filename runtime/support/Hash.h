//===- Hash.h - FNV-1a, the project's one content hash ----------*- C++ -*-===//
#ifndef GIGA_RUNTIME_SUPPORT_HASH_H
#define GIGA_RUNTIME_SUPPORT_HASH_H

#include <cstdint>
#include <string_view>

namespace giga {

/// 64-bit FNV-1a: the artifact checksum, the checkpoint's artifact identity
/// and the store's per-tensor seeds. Not cryptographic.
inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull; // the offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull; // the FNV prime
  }
  return hash;
}

} // namespace giga

#endif // GIGA_RUNTIME_SUPPORT_HASH_H
