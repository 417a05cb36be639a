#include "runner/base/var_file.h"

#include <cmath>
#include <string_view>

#include "core/base/input_file.h"
#include "core/import/yaml_document.h"
#include "core/model/experiment.h"
#include "core/model/json_document.h"

namespace ringfence {

namespace {

bool IsPlaceholderName(const std::string& name) {
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !start(name[0])) return false;
  for (char c : name) {
    if (!start(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
  }
  return true;
}

// YAML by the name (.yaml, .yml); JSON by the name (.json); otherwise by the content: JSON when
// the first character that is not blank opens an object or an array (or there is none).
bool IsYamlVarFile(const std::string& path, const std::string& text) {
  if (IsYamlPath(path)) return true;
  const std::string_view name(path);
  if (name.size() >= 5 && name.substr(name.size() - 5) == ".json") return false;
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] != '{' && text[first] != '[';
}

// A value's text as --var would carry it: 5 (not 5.0) for a whole number.
std::string ValueText(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
      return std::to_string(static_cast<long long>(d));
    }
  }
  return v.dump();
}

}  // namespace

bool ReadVarFile(const std::string& path, std::map<std::string, std::string>& vars,
                 ValidationErrors& errors) {
  InputFileRefusal refusal;
  Result<std::string> text = ReadInputFile(path, kMaxExperimentBytes,
                                           IsYamlPath(path) ? "YAML file" : "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return false;
  }
  const bool yaml = IsYamlVarFile(path, *text);
  std::optional<nlohmann::ordered_json> doc =
      yaml ? ParseYamlDocument(*text, kMaxExperimentDepth, errors)
           : ParseJsonDocument(*text, errors);
  if (!doc) return false;
  if (yaml && !doc->is_object()) {
    errors.Add("", FoundValue(*doc), kVarFileYamlRootAllowed);
    return false;
  }
  return ReadVarsObject(*doc, "", vars, errors);
}

bool ReadVarsObject(const nlohmann::ordered_json& object, const std::string& pointer,
                    std::map<std::string, std::string>& vars, ValidationErrors& errors) {
  if (!object.is_object()) {
    errors.Add(pointer, FoundValue(object), kVarFileRootAllowed);
    return false;
  }
  const size_t before = errors.size();
  std::map<std::string, std::string> read;
  for (const auto& [name, value] : object.items()) {
    const std::string at = pointer + "/" + JsonPointerToken(name);
    if (!IsPlaceholderName(name)) {
      errors.Add(at, FoundValue(nlohmann::ordered_json(name)), kVarFileNameAllowed);
    } else if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
      errors.Add(at, FoundValue(value), kVarFileValueAllowed);
    } else {
      read[name] = ValueText(value);
    }
  }
  if (errors.size() != before) return false;
  for (auto& [name, value] : read) vars[name] = std::move(value);
  return true;
}

}  // namespace ringfence
