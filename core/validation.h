#pragma once

#include <string>
#include <vector>

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

}  // namespace ringfence
