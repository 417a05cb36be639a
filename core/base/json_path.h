#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// A JSONPath expression, the subset Chaos Toolkit's jsonpath tolerances use: `$` (the root),
// `.name` and `['name']` (a member), `[n]` (an element; negative counts from the end), `[*]`
// and `.*` (every member or element), `..name` (the member at any depth). Parsed once; never
// throws.
class JsonPath {
 public:
  // The expression, or kInvalidInput with why it is not one ("expected a member name after
  // '.' at 3"). At most kMaxLength characters.
  static Result<JsonPath> Parse(const std::string& text);
  static constexpr size_t kMaxLength = 1024;

  // The values selected in `doc`, in document order.
  std::vector<nlohmann::json> Select(const nlohmann::json& doc) const;
  const std::string& text() const { return text_; }

 private:
  struct Step {
    enum class Kind { kMember, kIndex, kWildcard, kDescendant } kind;
    std::string name;  // kMember, kDescendant
    long index = 0;    // kIndex
  };
  std::string text_;
  std::vector<Step> steps_;
};

}  // namespace ringfence
