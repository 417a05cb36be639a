#include "runner/run/suite_file.h"

#include <filesystem>
#include <functional>

#include "core/base/input_file.h"
#include "core/model/experiment.h"
#include "core/model/json_document.h"
#include "runner/base/var_file.h"

namespace ringfence {

namespace {

using ojson = nlohmann::ordered_json;

constexpr char kNonEmptyString[] = "a non-empty string";
constexpr char kStringsAllowed[] = "an array of non-empty strings";

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

class SuiteReader {
 public:
  SuiteReader(std::string folder, ValidationErrors& errors,
              std::vector<std::pair<std::string, ValidationErrors>>& var_file_errors)
      : folder_(std::move(folder)), errors_(errors), var_file_errors_(var_file_errors) {}

  void Read(const ojson& doc, SuiteFile& out) {
    std::map<std::string, std::string> shared;
    std::vector<std::string> shared_files;
    std::map<std::string, std::string> shared_vars;
    const ojson* experiments = nullptr;
    Object(
        doc, "",
        {{"version", true,
          [&](const ojson& v, const std::string& p) {
            if (!(v.is_number_integer() && v.get<int64_t>() == 1)) {
              errors_.Add(p, FoundValue(v), "1");
            }
          }},
         {"title", false, [&](const ojson& v, const std::string& p) { out.title = String(v, p); }},
         {"description", false, [&](const ojson& v, const std::string& p) { String(v, p); }},
         {"journal_dir", false,
          [&](const ojson& v, const std::string& p) { out.journal_dir = String(v, p); }},
         {"fail_fast", false,
          [&](const ojson& v, const std::string& p) {
            if (v.is_boolean()) {
              out.fail_fast = v.get<bool>();
            } else {
              errors_.Add(p, FoundValue(v), "true or false");
            }
          }},
         {"tags", false, [&](const ojson& v, const std::string& p) { out.tags = Strings(v, p); }},
         {"skip_tags", false,
          [&](const ojson& v, const std::string& p) { out.skip_tags = Strings(v, p); }},
         {"vars", false, [&](const ojson& v, const std::string& p) { Vars(v, p, shared_vars); }},
         {"var_files", false,
          [&](const ojson& v, const std::string& p) { shared_files = Strings(v, p); }},
         {"experiments", true, [&](const ojson& v, const std::string&) { experiments = &v; }}});
    // The suite's var files, then its vars, under every experiment's own.
    for (const auto& f : shared_files) VarFile(f, shared);
    for (const auto& [k, v] : shared_vars) shared[k] = v;
    if (experiments == nullptr) return;
    if (!experiments->is_array() || experiments->empty()) {
      errors_.Add("/experiments", FoundValue(*experiments),
                  "a non-empty array of experiment objects");
      return;
    }
    for (size_t i = 0; i < experiments->size(); ++i) {
      const std::string p = "/experiments/" + std::to_string(i);
      SuiteEntry entry;
      entry.vars = shared;
      std::vector<std::string> files;
      std::map<std::string, std::string> own;
      Object((*experiments)[i], p,
             {{"file", true,
               [&](const ojson& v, const std::string& q) {
                 const std::string file = String(v, q);
                 if (!file.empty()) entry.file = Resolve(file);
               }},
              {"vars", false, [&](const ojson& v, const std::string& q) { Vars(v, q, own); }},
              {"var_files", false,
               [&](const ojson& v, const std::string& q) { files = Strings(v, q); }}});
      for (const auto& f : files) VarFile(f, entry.vars);
      for (const auto& [k, v] : own) entry.vars[k] = v;
      out.experiments.push_back(std::move(entry));
    }
  }

 private:
  struct Field {
    std::string key;
    bool required;
    std::function<void(const ojson&, const std::string&)> read;
  };

  void Object(const ojson& v, const std::string& p, const std::vector<Field>& fields) {
    std::vector<std::string> keys;
    for (const auto& f : fields) keys.push_back(f.key);
    if (!v.is_object()) {
      errors_.Add(p, FoundValue(v), "an object with " + OneOf(keys));
      return;
    }
    for (const auto& [key, value] : v.items()) {
      const Field* field = nullptr;
      for (const auto& f : fields) {
        if (f.key == key) field = &f;
      }
      if (field == nullptr) {
        errors_.Add(Child(p, key), kFoundUnknownKey, OneOf(keys));
      } else {
        field->read(value, Child(p, key));
      }
    }
    for (const auto& f : fields) {
      if (f.required && !v.contains(f.key)) {
        errors_.Add(Child(p, f.key), kFoundMissing,
                    f.key == "version" ? "1"
                    : f.key == "file"  ? "the path of an experiment file"
                                       : "a non-empty array of experiment objects");
      }
    }
  }

  std::string String(const ojson& v, const std::string& p) {
    if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
    errors_.Add(p, FoundValue(v), kNonEmptyString);
    return "";
  }

  std::vector<std::string> Strings(const ojson& v, const std::string& p) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      errors_.Add(p, FoundValue(v), kStringsAllowed);
      return out;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string s = String(v[i], p + "/" + std::to_string(i));
      if (!s.empty()) out.push_back(s);
    }
    return out;
  }

  // A `vars` object: the rules of a var file (runner/base/var_file.h), at this pointer.
  void Vars(const ojson& v, const std::string& p, std::map<std::string, std::string>& out) {
    ReadVarsObject(v, p, out, errors_);
  }

  void VarFile(const std::string& file, std::map<std::string, std::string>& vars) {
    const std::string path = Resolve(file);
    ValidationErrors errors;
    if (!ReadVarFile(path, vars, errors)) var_file_errors_.emplace_back(path, std::move(errors));
  }

  std::string Resolve(const std::string& file) const {
    if (file.empty() || file[0] == '/' || folder_.empty()) return file;
    return (std::filesystem::path(folder_) / file).lexically_normal().string();
  }

  std::string folder_;
  ValidationErrors& errors_;
  std::vector<std::pair<std::string, ValidationErrors>>& var_file_errors_;
};

}  // namespace

std::optional<SuiteFile> LoadSuiteFile(
    const std::string& path, ValidationErrors& errors,
    std::vector<std::pair<std::string, ValidationErrors>>& var_file_errors) {
  InputFileRefusal refusal;
  Result<std::string> text = ReadInputFile(path, kMaxExperimentBytes, "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  std::optional<ojson> doc = ParseJsonDocument(*text, errors);
  if (!doc) return std::nullopt;
  SuiteFile out;
  SuiteReader(std::filesystem::path(path).parent_path().string(), errors, var_file_errors)
      .Read(*doc, out);
  if (!errors.empty() || !var_file_errors.empty()) return std::nullopt;
  return out;
}

}  // namespace ringfence
