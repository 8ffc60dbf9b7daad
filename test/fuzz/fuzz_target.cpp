//===- fuzz_target.cpp - the wafer target reader (gigac --wafer FILE) -----===//
#include "compiler/Target.h"
#include "frontend/Config.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    giga::Target target = giga::parseTarget(
        std::string(reinterpret_cast<const char *>(data), size), "fuzz.json");
    (void)target.toJson();
  } catch (const giga::Error &) {
  }
  return 0;
}
