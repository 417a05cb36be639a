#include "runner/commands/template_validation.h"

#include <cstdio>

#include "core/fault/fault.h"
#include "core/model/experiment.h"

namespace ringfence {

namespace {

// The loader's text for a placeholder it could not fill (core/base/placeholders.h):
// "a value for placeholder 'NAME' (--var NAME=VALUE or the environment variable NAME)".
constexpr char kUnfilledPrefix[] = "a value for placeholder '";
constexpr char kUnfilledSuffix[] = "' (--var ";

// The name of the placeholder `e` reports as unfilled, or "" when `e` is another problem.
std::string UnfilledName(const ValidationError& e) {
  if (e.allowed.rfind(kUnfilledPrefix, 0) != 0) return "";
  const size_t start = sizeof kUnfilledPrefix - 1;
  const size_t end = e.allowed.find(kUnfilledSuffix, start);
  return end == std::string::npos ? "" : e.allowed.substr(start, end - start);
}

}  // namespace

int ValidateTemplates(const std::vector<std::string>& files,
                      const std::map<std::string, std::string>& vars) {
  int code = 0;
  for (const auto& file : files) {
    ValidationErrors errors;
    LoadOptions options;
    options.vars = vars;
    options.env = [](const std::string&) { return std::nullopt; };
    options.catalog = &FaultRegistry::Global();
    auto experiment = LoadExperimentFile(file, options, errors);
    std::vector<std::string> unfilled;
    ValidationErrors real;
    for (const auto& e : errors.errors()) {
      const std::string name = UnfilledName(e);
      if (name.empty()) {
        if (e.line > 0) {
          real.AddSyntax(e.line, e.column, e.found, e.allowed);
        } else {
          real.Add(e.pointer, e.found, e.allowed);
        }
      } else {
        unfilled.push_back(file + ": " + e.pointer + ": ${" + name + "} left unfilled (template)");
      }
    }
    if (!real.empty()) {
      for (const auto& line : real.Format(file)) std::fprintf(stderr, "%s\n", line.c_str());
      code = 2;
      continue;
    }
    for (const auto& line : unfilled) std::printf("%s\n", line.c_str());
    std::printf("%s: ok as a template (%zu placeholder%s left unfilled)\n", file.c_str(),
                unfilled.size(), unfilled.size() == 1 ? "" : "s");
  }
  return code;
}

}  // namespace ringfence
