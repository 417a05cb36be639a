#include "core/base/checked_json.h"

namespace ringfence {

namespace {

std::string MemberPointer(const std::string& pointer, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return pointer + "/" + escaped;
}

// The member, nullptr when missing; an error when `object` is not an object.
Result<const nlohmann::json*> Member(const nlohmann::json& object, const std::string& key,
                                     const std::string& pointer) {
  if (!object.is_object()) return WrongType(pointer.empty() ? "/" : pointer, object, "an object");
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

template <typename T>
Result<T> Read(const nlohmann::json& object, const std::string& key, const std::string& pointer,
               const std::optional<T>& fallback, const char* what,
               bool (*is)(const nlohmann::json&)) {
  auto m = Member(object, key, pointer);
  if (!m.ok()) return m.status();
  const std::string at = MemberPointer(pointer, key);
  if (*m == nullptr) {
    if (fallback) return *fallback;
    return Status::InvalidInput(at + ": missing: expected " + what);
  }
  if (!is(**m)) return WrongType(at, **m, what);
  return (*m)->template get<T>();
}

}  // namespace

Status WrongType(const std::string& pointer, const nlohmann::json& found, const std::string& what) {
  std::string text = found.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return Status::InvalidInput(pointer + ": found " + text + ": expected " + what);
}

Result<std::string> CheckedString(const nlohmann::json& object, const std::string& key,
                                  const std::string& pointer, std::optional<std::string> fallback) {
  return Read<std::string>(object, key, pointer, fallback, "a string",
                           [](const nlohmann::json& v) { return v.is_string(); });
}

Result<uint64_t> CheckedUnsigned(const nlohmann::json& object, const std::string& key,
                                 const std::string& pointer, std::optional<uint64_t> fallback) {
  return Read<uint64_t>(object, key, pointer, fallback, "an unsigned integer",
                        [](const nlohmann::json& v) { return v.is_number_unsigned(); });
}

Result<int64_t> CheckedInteger(const nlohmann::json& object, const std::string& key,
                               const std::string& pointer, std::optional<int64_t> fallback) {
  return Read<int64_t>(object, key, pointer, fallback, "an integer", [](const nlohmann::json& v) {
    return v.is_number_integer() &&
           (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
  });
}

Result<bool> CheckedBool(const nlohmann::json& object, const std::string& key,
                         const std::string& pointer, std::optional<bool> fallback) {
  return Read<bool>(object, key, pointer, fallback, "true or false",
                    [](const nlohmann::json& v) { return v.is_boolean(); });
}

Result<nlohmann::json> CheckedObject(const nlohmann::json& object, const std::string& key,
                                     const std::string& pointer, bool empty_when_missing) {
  std::optional<nlohmann::json> fallback;
  if (empty_when_missing) fallback = nlohmann::json::object();
  return Read<nlohmann::json>(object, key, pointer, fallback, "an object",
                              [](const nlohmann::json& v) { return v.is_object(); });
}

}  // namespace ringfence
