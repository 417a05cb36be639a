#include "core/base/secret_values.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace ringfence {

namespace {
constexpr char kMark[] = "[redacted:";
constexpr size_t kMarkSize = sizeof kMark - 1;

template <typename F>
nlohmann::json MapStrings(const nlohmann::json& doc, const F& f) {
  if (doc.is_string()) return f(doc.get<std::string>());
  if (doc.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : doc) out.push_back(MapStrings(v, f));
    return out;
  }
  if (doc.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) out[f(it.key())] = MapStrings(it.value(), f);
    return out;
  }
  return doc;
}
}  // namespace

void SecretValues::Add(const std::string& name, const std::string& value) {
  if (value.size() < 4) return;
  by_value_[value] = name;
  by_name_[name] = value;
}

std::string SecretValues::Conceal(std::string text) const {
  std::vector<std::pair<std::string, std::string>> ordered(by_value_.begin(), by_value_.end());
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [value, name] : ordered) {
    const std::string mask = kMark + name + "]";
    for (size_t pos = text.find(value); pos != std::string::npos;
         pos = text.find(value, pos + mask.size())) {
      text.replace(pos, value.size(), mask);
    }
  }
  return text;
}

nlohmann::json SecretValues::Conceal(const nlohmann::json& doc) const {
  if (by_value_.empty()) return doc;
  return MapStrings(doc, [this](const std::string& s) { return Conceal(s); });
}

std::string SecretValues::Reveal(const std::string& text, std::set<std::string>& missing) const {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t at = text.find(kMark, pos);
    if (at == std::string::npos) break;
    size_t end = at + kMarkSize;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '_' || text[end] == '.' || text[end] == '-')) {
      ++end;
    }
    if (end == at + kMarkSize || end >= text.size() || text[end] != ']') {
      out.append(text, pos, end - pos);  // not a mark
      pos = end;
      continue;
    }
    const std::string name = text.substr(at + kMarkSize, end - at - kMarkSize);
    out.append(text, pos, at - pos);
    if (auto it = by_name_.find(name); it != by_name_.end()) {
      out += it->second;
    } else {
      missing.insert(name);
      out.append(text, at, end + 1 - at);
    }
    pos = end + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

nlohmann::json SecretValues::Reveal(const nlohmann::json& doc,
                                    std::set<std::string>& missing) const {
  return MapStrings(doc, [&](const std::string& s) { return Reveal(s, missing); });
}

nlohmann::json SecretValues::ToJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : by_name_) out[name] = value;
  return out;
}

Result<SecretValues> SecretValues::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidInput("secrets: expected an object");
  SecretValues out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      return Status::InvalidInput("secrets: /" + it.key() + ": expected a string");
    out.Add(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace ringfence
