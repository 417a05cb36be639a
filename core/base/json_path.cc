#include "core/base/json_path.h"

#include <cctype>
#include <cstdlib>

namespace ringfence {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Every value below (and including) `v` whose member `name` exists, depth first; bounded by
// the document's own depth (documents are parsed with a depth limit).
void Descend(const nlohmann::json& v, const std::string& name, std::vector<nlohmann::json>& out) {
  if (v.is_object()) {
    if (auto it = v.find(name); it != v.end()) out.push_back(*it);
    for (const auto& [key, member] : v.items()) Descend(member, name, out);
  } else if (v.is_array()) {
    for (const auto& element : v) Descend(element, name, out);
  }
}

}  // namespace

Result<JsonPath> JsonPath::Parse(const std::string& text) {
  auto bad = [&](const std::string& why, size_t at) {
    return Status::InvalidInput(why + " at " + std::to_string(at + 1));
  };
  if (text.size() > kMaxLength) {
    return Status::InvalidInput("longer than " + std::to_string(kMaxLength) + " characters");
  }
  if (text.empty() || text[0] != '$') return bad("expected '$'", 0);
  JsonPath path;
  path.text_ = text;
  size_t i = 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      bool descendant = i + 1 < text.size() && text[i + 1] == '.';
      i += descendant ? 2 : 1;
      if (i < text.size() && text[i] == '*' && !descendant) {
        path.steps_.push_back({Step::Kind::kWildcard, "", 0});
        ++i;
        continue;
      }
      size_t start = i;
      while (i < text.size() && IsNameChar(text[i])) ++i;
      if (i == start) return bad("expected a member name", start);
      path.steps_.push_back({descendant ? Step::Kind::kDescendant : Step::Kind::kMember,
                             text.substr(start, i - start), 0});
    } else if (c == '[') {
      ++i;
      if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        const char quote = text[i++];
        size_t end = text.find(quote, i);
        if (end == std::string::npos) return bad("unterminated quoted name", i);
        path.steps_.push_back({Step::Kind::kMember, text.substr(i, end - i), 0});
        i = end + 1;
      } else if (i < text.size() && text[i] == '*') {
        path.steps_.push_back({Step::Kind::kWildcard, "", 0});
        ++i;
      } else {
        size_t start = i;
        if (i < text.size() && text[i] == '-') ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        if (i == start || i - start > 9)
          return bad("expected an index, '*' or a quoted name", start);
        path.steps_.push_back({Step::Kind::kIndex, "",
                               std::strtol(text.substr(start, i - start).c_str(), nullptr, 10)});
      }
      if (i >= text.size() || text[i] != ']') return bad("expected ']'", i);
      ++i;
    } else {
      return bad("expected '.' or '['", i);
    }
  }
  return path;
}

std::vector<nlohmann::json> JsonPath::Select(const nlohmann::json& doc) const {
  std::vector<nlohmann::json> current = {doc};
  for (const Step& step : steps_) {
    std::vector<nlohmann::json> next;
    for (const auto& v : current) {
      switch (step.kind) {
        case Step::Kind::kMember:
          if (v.is_object()) {
            if (auto it = v.find(step.name); it != v.end()) next.push_back(*it);
          }
          break;
        case Step::Kind::kIndex:
          if (v.is_array()) {
            const long size = static_cast<long>(v.size());
            const long at = step.index < 0 ? size + step.index : step.index;
            if (at >= 0 && at < size) next.push_back(v[static_cast<size_t>(at)]);
          }
          break;
        case Step::Kind::kWildcard:
          if (v.is_object() || v.is_array()) {
            for (const auto& member : v) next.push_back(member);
          }
          break;
        case Step::Kind::kDescendant:
          Descend(v, step.name, next);
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

}  // namespace ringfence
