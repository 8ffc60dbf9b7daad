//===- fuzz_safetensors.cpp - checkpoints (--resume, --init, eval) --------===//
#include "FuzzInput.h"
#include "runtime/store/Safetensors.h"
#include "runtime/store/StoreError.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  giga::fuzz::MemoryFile file(data, size);
  try {
    giga::store::SafetensorsFile checkpoint(file.path());
    // Every tensor it lists lies inside the file: reading any must work.
    std::vector<char> buffer;
    for (const auto &[name, entry] : checkpoint.tensors()) {
      uint64_t bytes = entry.end - entry.begin;
      if (bytes > size)
        __builtin_trap();
      buffer.resize(bytes);
      checkpoint.read(name, 0, buffer.data(), bytes);
    }
  } catch (const giga::Error &) {
  }
  return 0;
}
