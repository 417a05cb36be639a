#include "runner/redaction.h"

#include <algorithm>
#include <cctype>
#include <regex>

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
  static const std::regex kPlaceholder(R"(\$\{([A-Za-z_][A-Za-z0-9_.-]*)\})");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kPlaceholder);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

}  // namespace ringfence
