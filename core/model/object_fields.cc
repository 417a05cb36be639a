#include "core/model/object_fields.h"

namespace ringfence {

void ReadObjectFields(const nlohmann::ordered_json& object, const std::string& pointer,
                      const std::vector<ObjectField>& fields, ValidationErrors& errors) {
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  for (const auto& [key, value] : object.items()) {
    const ObjectField* field = nullptr;
    for (const auto& f : fields) {
      if (f.key == key) field = &f;
    }
    const std::string at = pointer + "/" + JsonPointerToken(key);
    if (field == nullptr) {
      errors.Add(at, kFoundUnknownKey, OneOf(keys));
    } else {
      field->read(value, at);
    }
  }
  for (const auto& f : fields) {
    if (f.required && !object.contains(f.key)) {
      errors.Add(pointer + "/" + JsonPointerToken(f.key), kFoundMissing, f.missing_allowed);
    }
  }
}

}  // namespace ringfence
