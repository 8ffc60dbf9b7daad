//===- Json.h - JSON that says each key once --------------------*- C++ -*-===//
//
// nlohmann::json keeps the last of two equal keys in an object without a
// word, so a config with "learning_rate" twice trains with whichever comes
// second. Every reader of a user's JSON (configs, wafer targets, safetensors
// headers, JSONL records) refuses duplicates through this one check.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_SUPPORT_JSON_H
#define GIGA_RUNTIME_SUPPORT_JSON_H

#include <optional>
#include <string>
#include <string_view>

namespace giga {

/// The first key that appears twice in one object of the JSON `text`, as a
/// path ("run.learning_rate", "model" at the top level); nothing if none
/// does or if `text` is not valid JSON (the parser reports that).
std::optional<std::string> duplicateJsonKey(std::string_view text);

} // namespace giga

#endif // GIGA_RUNTIME_SUPPORT_JSON_H
