#include "core/validation.h"

namespace ringfence {

std::vector<std::string> ValidationErrors::Format(const std::string& file) const {
  std::vector<std::string> lines;
  lines.reserve(errors_.size());
  for (const auto& e : errors_) {
    if (e.line > 0) {
      lines.push_back(file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " +
                      e.found + ": " + e.allowed);
    } else {
      lines.push_back(file + ": " + (e.pointer.empty() ? "/" : e.pointer) + ": " + e.found + ": " +
                      e.allowed);
    }
  }
  return lines;
}

std::string JsonPointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace ringfence
