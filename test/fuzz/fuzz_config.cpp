//===- fuzz_config.cpp - the model config reader (gigac's input) ----------===//
#include "frontend/Config.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    giga::Config config = giga::parseConfigText(
        std::string(reinterpret_cast<const char *>(data), size), "fuzz.json");
    // What it accepts, it must write back and read again to the same config.
    giga::Config again =
        giga::parseConfigText(config.toJson().dump(), "again.json");
    if (again.toJson() != config.toJson())
      __builtin_trap();
  } catch (const giga::Error &) {
  }
  return 0;
}
