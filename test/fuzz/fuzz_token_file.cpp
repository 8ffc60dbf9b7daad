//===- fuzz_token_file.cpp - token files (nanoGPT raw uint16, llm.c) ------===//
#include "FuzzInput.h"
#include "runtime/data/DataError.h"
#include "runtime/data/TokenFile.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  giga::fuzz::MemoryFile file(data, size);
  try {
    giga::data::TokenFileReader reader =
        giga::data::TokenFileReader::open(file.path());
    const uint64_t count = reader.size();
    uint64_t bad = reader.findOutOfVocab(50257, 0, count);
    if (bad > count)
      __builtin_trap();
    if (count > 0) {
      std::vector<giga::data::TokenId> all = reader.read(0, count);
      if (all.size() != count || all.back() != reader.at(count - 1))
        __builtin_trap();
    }
  } catch (const giga::Error &) {
  }
  return 0;
}
