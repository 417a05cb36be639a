#include "runner/redaction.h"

#include <algorithm>
#include <cctype>

namespace ringfence {

void Redactor::Add(const std::string& name, const std::string& value) {
  if (value.size() >= 4) values_[value] = name;
}

std::string Redactor::Apply(std::string text) const {
  // Longest values first, so a secret that contains another is replaced whole.
  std::vector<std::pair<std::string, std::string>> ordered(values_.begin(), values_.end());
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [value, name] : ordered) {
    const std::string mask = "[redacted:" + name + "]";
    for (size_t pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos + mask.size())) {
      text.replace(pos, value.size(), mask);
    }
  }
  return text;
}

nlohmann::json Redactor::Apply(const nlohmann::json& doc) const {
  if (values_.empty()) return doc;
  if (doc.is_string()) return Apply(doc.get<std::string>());
  if (doc.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : doc) out.push_back(Apply(v));
    return out;
  }
  if (doc.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) out[Apply(it.key())] = Apply(it.value());
    return out;
  }
  return doc;
}

bool LooksSecret(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"secret", "password", "passwd", "token", "apikey", "api_key",
                           "credential", "private_key"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return lower.size() > 4 && lower.compare(lower.size() - 4, 4, "_key") == 0;
}

std::vector<std::string> PlaceholderNames(const std::string& text) {
  // ${NAME} with NAME matching [A-Za-z_][A-Za-z0-9_.-]*, scanned by hand (no regex engine).
  const auto first = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  const auto rest = [&](char c) {
    return first(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
  };
  std::vector<std::string> out;
  for (size_t at = text.find("${"); at != std::string::npos; at = text.find("${", at + 1)) {
    size_t end = at + 2;
    if (end >= text.size() || !first(text[end])) continue;
    while (end < text.size() && rest(text[end])) ++end;
    if (end < text.size() && text[end] == '}') out.push_back(text.substr(at + 2, end - at - 2));
  }
  return out;
}

}  // namespace ringfence
