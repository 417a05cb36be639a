#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ringfence {

// One thing wrong with an input document: where (a JSON pointer such as
// "/method/0/params/signal"), what was found there, and what is allowed.
// Printed as "<file>: <pointer>: <found>: <allowed>". A syntax error has no pointer; it
// carries line and column instead and prints as "<file>:<line>:<column>: <found>: <allowed>".
struct ValidationError {
  std::string pointer;
  std::string found;
  std::string allowed;
  int line = 0;    // > 0 only for syntax errors
  int column = 0;  // > 0 only for syntax errors
};

// Collects every error of a document so that all are reported at once.
class ValidationErrors {
 public:
  void Add(std::string pointer, std::string found, std::string allowed) {
    errors_.push_back({std::move(pointer), std::move(found), std::move(allowed)});
  }
  void AddSyntax(int line, int column, std::string found, std::string allowed) {
    errors_.push_back({"", std::move(found), std::move(allowed), line, column});
  }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<ValidationError>& errors() const { return errors_; }

  // One line per error, each prefixed with `file`, in the order they were found.
  std::vector<std::string> Format(const std::string& file) const;

 private:
  std::vector<ValidationError> errors_;
};

// Escapes a key for use in a JSON pointer ("~" → "~0", "/" → "~1").
std::string JsonPointerToken(const std::string& key);

// The `found` texts shared by every validator (see docs/experiment-format.md).
inline constexpr char kFoundMissing[] = "missing";
inline constexpr char kFoundUnknownKey[] = "unknown key";
inline constexpr size_t kMaxFoundChars = 40;

// The `found` text for a value: compact JSON (strings quoted), cut to kMaxFoundChars characters,
// the last of which is then "…". Never throws (invalid UTF-8 is replaced).
std::string FoundValue(const nlohmann::json& value);
std::string FoundValue(const nlohmann::ordered_json& value);

// "one of a, b, c" — the `allowed` text for a closed set of names.
std::string OneOf(const std::vector<std::string>& names);

}  // namespace ringfence
