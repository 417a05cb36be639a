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

}  // namespace ringfence
