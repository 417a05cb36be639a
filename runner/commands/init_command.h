#pragma once

#include <string>
#include <vector>

namespace ringfence {

// `ringfence init`: which template, and where it goes.
struct InitRequest {
  std::string template_name = "kill-and-restart";
  std::string output = "experiment.json";  // "-": standard output
};

// A starting experiment shipped in the binary (templates/NAME.json, embedded when the build
// runs; installed also as PREFIX/share/ringfence/templates/NAME.json).
struct InitTemplate {
  std::string name;  // "kill-and-restart"
  std::string text;  // the JSON document, with ${placeholders} to fill
};

// Every template, sorted by name.
const std::vector<InitTemplate>& InitTemplates();
const InitTemplate* FindInitTemplate(const std::string& name);
std::vector<std::string> InitTemplateNames();
std::string InitTemplateList();  // "bad-update-rehearsal, disk-fill, …"

// The placeholders a template leaves to fill, in document order, each once.
std::vector<std::string> TemplatePlaceholders(const InitTemplate& t);

// Writes the template to request.output (created 0644; an existing file is never overwritten:
// exit 2 with "ringfence init: FILE exists; not overwritten (choose another -o FILE)"), then
// tells on stderr which placeholders to fill and how to check the result. 0, 2, or 3 when
// the file cannot be written.
int RunInit(const InitRequest& request);

}  // namespace ringfence
