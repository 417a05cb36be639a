#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// The `allowed` texts of a var file's errors (docs/experiment-format.md, "Var files").
inline constexpr char kVarFileRootAllowed[] = "a JSON object of placeholder names and their values";
inline constexpr char kVarFileYamlRootAllowed[] =
    "a YAML mapping of placeholder names and their values";
inline constexpr char kVarFileValueAllowed[] = "a string, a number, true or false";
inline constexpr char kVarFileNameAllowed[] =
    "a placeholder name: a letter or '_', then letters, digits, '_', '-' or '.'";

// Reads a var file (`--var-file F`, a suite's `var_files`): a JSON object (or a YAML mapping)
// whose members are placeholder names with a string, number or boolean value; each fills
// ${name} like `--var name=value` (numbers as written: 5, 0.25; booleans as true/false). YAML
// when the name ends in .yaml or .yml, JSON when it ends in .json, otherwise YAML unless the
// first character that is not blank is '{' or '['. Every member is set in `vars`, replacing a
// value already there: the caller reads files from the weakest to the strongest. The file is
// read with the bounds of an experiment (core/base/input_file.h, core/model/experiment.h
// ParseJsonDocument, core/import/yaml_document.h). On any problem nothing is set, every problem
// is added to `errors` (with its JSON pointer, or line and column) and the result is false.
// Never throws.
bool ReadVarFile(const std::string& path, std::map<std::string, std::string>& vars,
                 ValidationErrors& errors);

// The same rules for an object already parsed (a var file's root, a suite's `vars`) at JSON
// pointer `pointer`: every member set in `vars`, or nothing set and false with `errors` filled.
bool ReadVarsObject(const nlohmann::ordered_json& object, const std::string& pointer,
                    std::map<std::string, std::string>& vars, ValidationErrors& errors);

}  // namespace ringfence
