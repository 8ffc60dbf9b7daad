//===- fuzz_artifact.cpp - the artifact reader (gigarun STEP.wafer) -------===//
//
// The header's checksum would stop almost every input before the payload,
// so an input whose first byte is even is a CBOR payload that gets a valid
// header; an odd one is the whole file, header included.
//
//===----------------------------------------------------------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/Report.h"
#include "runtime/support/Hash.h"

#include <cstdint>
#include <string>

namespace {
template <typename T> void put(std::string &bytes, T value) {
  bytes.append(reinterpret_cast<const char *>(&value), sizeof(value));
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string input(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string bytes;
  if (data[0] % 2 == 0) {
    bytes.assign(giga::artifact::kMagic, sizeof(giga::artifact::kMagic));
    put<uint32_t>(bytes, giga::artifact::kFormatVersion);
    put<uint32_t>(bytes, 0);
    put<uint64_t>(bytes, input.size());
    put<uint64_t>(bytes, giga::fnv1a64(input));
    bytes += input;
  } else {
    bytes = input;
  }
  try {
    giga::artifact::Artifact artifact =
        giga::artifact::deserialize(bytes, "fuzz.wafer");
    (void)giga::artifact::formatReport(artifact); // gigarun inspect's
    // What it accepts, it must write and read back unchanged.
    std::string again = giga::artifact::serialize(artifact);
    if (giga::artifact::toJson(giga::artifact::deserialize(again, "again")) !=
        giga::artifact::toJson(artifact))
      __builtin_trap();
  } catch (const giga::Error &) {
  }
  return 0;
}
