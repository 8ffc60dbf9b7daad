//===- Json.cpp - JSON that says each key once ----------------------------===//
#include "runtime/support/Json.h"

#include <nlohmann/json.hpp>

#include <set>
#include <vector>

namespace giga {

namespace {

/// Walks the document as events, keeping the keys seen in each open object.
class DuplicateFinder : public nlohmann::json_sax<nlohmann::json> {
public:
  std::optional<std::string> duplicate;

  bool key(string_t &name) override {
    Scope &object = scopes.back();
    if (!object.keys.insert(name).second) {
      duplicate = path(name);
      return false; // stop: the first is enough
    }
    object.current = name;
    return true;
  }
  bool start_object(std::size_t) override {
    scopes.push_back({true, {}, ""});
    return true;
  }
  bool end_object() override {
    scopes.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    scopes.push_back({false, {}, "[]"});
    return true;
  }
  bool end_array() override {
    scopes.pop_back();
    return true;
  }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t &) override { return true; }
  bool string(string_t &) override { return true; }
  bool binary(binary_t &) override { return true; }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &) override {
    return false;
  }

private:
  struct Scope {
    bool object;
    std::set<std::string> keys;
    std::string current; // the key being read, or "[]" in an array
  };

  std::string path(const std::string &name) const {
    std::string result;
    // Every scope but the innermost contributes the key it is inside.
    for (size_t i = 0; i + 1 < scopes.size(); ++i)
      result += scopes[i].current + (scopes[i + 1].object ? "." : "");
    return result + name;
  }

  std::vector<Scope> scopes;
};

} // namespace

std::optional<std::string> duplicateJsonKey(std::string_view text) {
  DuplicateFinder finder;
  nlohmann::json::sax_parse(text.begin(), text.end(), &finder,
                            nlohmann::json::input_format_t::json,
                            /*strict=*/false);
  return finder.duplicate;
}

} // namespace giga
