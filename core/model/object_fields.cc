#include "core/model/object_fields.h"

#include <cctype>

namespace ringfence {

std::string ChildPointer(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

std::string ChildPointer(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

bool IsPlainName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

void ReadObjectFields(const nlohmann::json& object, const std::string& pointer,
                      const std::vector<ObjectField>& fields, ValidationErrors& errors) {
  if (!object.is_object()) return errors.Add(pointer, FoundValue(object), "an object");
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  for (const auto& f : fields) {
    if (f.required && !object.contains(f.key)) {
      errors.Add(ChildPointer(pointer, f.key), kFoundMissing, f.missing_allowed);
    }
  }
  for (const auto& [key, value] : object.items()) {
    const ObjectField* field = nullptr;
    for (const auto& f : fields) {
      if (f.key == key) field = &f;
    }
    if (field == nullptr) {
      errors.Add(ChildPointer(pointer, key), kFoundUnknownKey, OneOf(keys));
    } else {
      field->read(value, ChildPointer(pointer, key));
    }
  }
}

}  // namespace ringfence
