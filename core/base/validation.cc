#include "core/base/validation.h"

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
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

// Cuts `text` to kMaxFoundChars characters (UTF-8 code points), ending with "…" when cut.
std::string CutFound(const std::string& text) {
  size_t chars = 0;
  size_t cut_at = std::string::npos;  // byte offset where character kMaxFoundChars - 1 begins
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == kMaxFoundChars - 1) cut_at = i;
    if (++chars > kMaxFoundChars) return text.substr(0, cut_at) + "…";
  }
  return text;
}

}  // namespace

std::string FoundValue(const nlohmann::json& value) {
  return CutFound(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string FoundValue(const nlohmann::ordered_json& value) {
  return CutFound(value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

std::string OneOf(const std::vector<std::string>& names) {
  std::string out = "one of ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace ringfence
