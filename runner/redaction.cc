#include "runner/redaction.h"

#include <algorithm>
#include <cctype>
#include <regex>

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
  static const std::regex kPlaceholder(R"(\$\{([A-Za-z_][A-Za-z0-9_.-]*)\})");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kPlaceholder);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

}  // namespace ringfence
