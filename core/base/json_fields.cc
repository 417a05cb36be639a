#include "core/base/json_fields.h"

#include "core/base/validation.h"

namespace ringfence {

namespace {

Status Wrong(const std::string& key, const nlohmann::json& value, const std::string& expected) {
  return Status::Runtime("\"" + key + "\" is " + FoundValue(value) + ", not " + expected);
}

Status Missing(const std::string& key) { return Status::Runtime("no \"" + key + "\""); }

// The member, nullptr when absent; an error when `object` is not an object.
Result<const nlohmann::json*> Find(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) {
    return Status::Runtime("not a JSON object but " + FoundValue(object));
  }
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

namespace {

// Whether `text` opens more than `max_depth` arrays and objects inside each other, outside
// strings: one linear pass, without building anything. Text that is not JSON may be misjudged;
// the parser then says what is wrong with it.
bool NestsDeeperThan(const std::string& text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (depth >= max_depth) return true;
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// "not JSON (<the parser's reason>)", without the exception's "[json.exception…] " prefix.
Status NotJson(const nlohmann::json::exception& e) {
  std::string why = e.what();
  if (const size_t end = why.find("] "); end != std::string::npos) why = why.substr(end + 2);
  return Status::InvalidInput("not JSON (" + why + ")");
}

}  // namespace

Result<nlohmann::json> ParseUntrustedJson(const std::string& text, int max_depth) {
  // Nothing deeper than the bound: the plain parser. nlohmann's callback parser (below, needed
  // only to stop a deep document while it is built) scans the enclosing array at the end of
  // every object it builds, which makes a journal's 72,000 samples quadratic (docs/performance.md).
  if (!NestsDeeperThan(text, max_depth)) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return NotJson(e);
    }
  }
  bool too_deep = false;
  try {
    nlohmann::json doc = nlohmann::json::parse(
        text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
          const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                             event == nlohmann::json::parse_event_t::array_start;
          if (opens && depth >= max_depth) too_deep = true;
          return !too_deep;  // once too deep, nothing more is built
        });
    if (too_deep) {
      return Status::InvalidInput("nesting deeper than " + std::to_string(max_depth) + " levels");
    }
    return doc;
  } catch (const nlohmann::json::exception& e) {
    if (too_deep) {
      return Status::InvalidInput("nesting deeper than " + std::to_string(max_depth) + " levels");
    }
    return NotJson(e);
  }
}

Result<bool> BoolMember(const nlohmann::json& object, const std::string& key,
                        std::optional<bool> fallback) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) return fallback ? Result<bool>(*fallback) : Missing(key);
  if (!(*v)->is_boolean()) return Wrong(key, **v, "true or false");
  return (*v)->get<bool>();
}

Result<std::string> StringMember(const nlohmann::json& object, const std::string& key,
                                 std::optional<std::string> fallback) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) return fallback ? Result<std::string>(*fallback) : Missing(key);
  if (!(*v)->is_string()) return Wrong(key, **v, "a string");
  return (*v)->get<std::string>();
}

Result<int64_t> IntegerMember(const nlohmann::json& object, const std::string& key, int64_t lo,
                              int64_t hi, std::optional<int64_t> fallback) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) return fallback ? Result<int64_t>(*fallback) : Missing(key);
  const nlohmann::json& x = **v;
  const std::string expected =
      "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (x.is_number_unsigned()) {
    const uint64_t u = x.get<uint64_t>();
    if (hi < 0 || u > static_cast<uint64_t>(hi)) return Wrong(key, x, expected);
    const auto i = static_cast<int64_t>(u);
    if (i < lo) return Wrong(key, x, expected);
    return i;
  }
  if (!x.is_number_integer()) return Wrong(key, x, expected);
  const int64_t i = x.get<int64_t>();
  if (i < lo || i > hi) return Wrong(key, x, expected);
  return i;
}

Result<uint64_t> UnsignedMember(const nlohmann::json& object, const std::string& key,
                                std::optional<uint64_t> fallback) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) return fallback ? Result<uint64_t>(*fallback) : Missing(key);
  if (!(*v)->is_number_unsigned()) return Wrong(key, **v, "an integer of at least 0");
  return (*v)->get<uint64_t>();
}

Result<nlohmann::json> ArrayMember(const nlohmann::json& object, const std::string& key,
                                   bool absent_is_empty) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) {
    return absent_is_empty ? Result<nlohmann::json>(nlohmann::json::array()) : Missing(key);
  }
  if (!(*v)->is_array()) return Wrong(key, **v, "an array");
  return **v;
}

Result<nlohmann::json> ObjectMember(const nlohmann::json& object, const std::string& key,
                                    bool absent_is_empty) {
  auto v = Find(object, key);
  if (!v.ok()) return v.status();
  if (*v == nullptr) {
    return absent_is_empty ? Result<nlohmann::json>(nlohmann::json::object()) : Missing(key);
  }
  if (!(*v)->is_object()) return Wrong(key, **v, "an object");
  return **v;
}

}  // namespace ringfence
