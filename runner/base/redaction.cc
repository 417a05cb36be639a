#include "runner/base/redaction.h"

#include <algorithm>
#include <cctype>

namespace ringfence {

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
