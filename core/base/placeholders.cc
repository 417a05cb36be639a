#include "core/base/placeholders.h"

#include <set>

namespace ringfence {

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    unsigned int code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    static constexpr unsigned int kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// One `${name}` or `$${` found by the scanner.
struct Token {
  enum class Kind { kText, kPlaceholder, kMalformed } kind;
  std::string text;  // kText: literal text; kPlaceholder: the name
};

std::vector<Token> Scan(const std::string& s) {
  std::vector<Token> tokens;
  std::string literal;
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
    } else if (s.compare(i, 2, "${") == 0) {
      size_t end = s.find('}', i + 2);
      std::string name = end == std::string::npos ? "" : s.substr(i + 2, end - i - 2);
      bool valid = !name.empty() && IsNameStart(name[0]);
      for (char c : name) valid = valid && IsNameChar(c);
      if (!valid) {
        tokens.push_back({Token::Kind::kMalformed, ""});
        return tokens;
      }
      if (!literal.empty()) tokens.push_back({Token::Kind::kText, std::move(literal)});
      literal.clear();
      tokens.push_back({Token::Kind::kPlaceholder, std::move(name)});
      i = end + 1;
    } else {
      literal += s[i++];
    }
  }
  if (!literal.empty()) tokens.push_back({Token::Kind::kText, std::move(literal)});
  return tokens;
}

}  // namespace

nlohmann::ordered_json FillPlaceholdersInString(const std::string& text,
                                                const PlaceholderLookup& lookup,
                                                const std::string& pointer,
                                                ValidationErrors& errors) {
  if (text.find('$') == std::string::npos) return text;
  const std::vector<Token> tokens = Scan(text);
  const std::string found = FoundValue(nlohmann::ordered_json(text));
  if (!tokens.empty() && tokens.back().kind == Token::Kind::kMalformed) {
    errors.Add(pointer, found,
               "placeholders written as ${name} (a name of letters, digits, '_', "
               "'-' and '.'); write $${ for a literal ${");
    return text;
  }
  std::string out;
  bool complete = true;
  std::set<std::string> reported;
  for (const Token& token : tokens) {
    if (token.kind == Token::Kind::kText) {
      out += token.text;
      continue;
    }
    std::optional<std::string> value = lookup ? lookup(token.text) : std::nullopt;
    if (!value) {
      complete = false;
      if (reported.insert(token.text).second) {
        errors.Add(pointer, found,
                   "a value for placeholder '" + token.text + "' (--var " + token.text +
                       "=VALUE or the environment variable " + token.text + ")");
      }
      continue;
    }
    if (!IsValidUtf8(*value)) {
      complete = false;
      if (reported.insert(token.text).second) {
        errors.Add(pointer, found, "a value for placeholder '" + token.text + "' in UTF-8");
      }
      continue;
    }
    if (tokens.size() == 1) {
      nlohmann::ordered_json typed =
          nlohmann::ordered_json::parse(*value, nullptr, /*allow_exceptions=*/false);
      if (typed.is_number() || typed.is_boolean()) return typed;
    }
    out += *value;
  }
  if (!complete) return text;
  return out;
}

void FillPlaceholders(nlohmann::ordered_json& document, const PlaceholderLookup& lookup,
                      const std::string& pointer, ValidationErrors& errors) {
  if (document.is_string()) {
    document = FillPlaceholdersInString(document.get<std::string>(), lookup, pointer, errors);
  } else if (document.is_object()) {
    for (auto& [key, value] : document.items()) {
      FillPlaceholders(value, lookup, pointer + "/" + JsonPointerToken(key), errors);
    }
  } else if (document.is_array()) {
    for (size_t i = 0; i < document.size(); ++i) {
      FillPlaceholders(document[i], lookup, pointer + "/" + std::to_string(i), errors);
    }
  }
}

}  // namespace ringfence
