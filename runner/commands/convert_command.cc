#include "runner/commands/convert_command.h"

#include <sys/stat.h>

#include <cstdio>

#include "core/base/input_file.h"
#include "core/fault/fault.h"
#include "core/model/experiment.h"
#include "runner/run/ctk_source.h"
#include "runner/run/experiment_runner.h"

namespace ringfence {

int ConvertExperimentFile(const ConvertRequest& request) {
  InputFileRefusal refusal;
  Result<std::string> text =
      ReadCommandLineInput(request.file, kMaxExperimentBytes, "JSON or YAML file", &refusal);
  ValidationErrors errors;
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
  }
  std::optional<ExperimentSource> source;
  if (text.ok()) {
    SourceOptions options = ChaosToolkitSourceOptions(request.options);
    if (options.format == "auto") options.format = "ctk";
    options.ctk.for_convert = true;
    source = ReadExperimentSource(request.file, *text, options, errors);
  }
  std::optional<Experiment> experiment;
  if (source) {
    // The result must be a valid native experiment (its secrets are placeholders now).
    LoadOptions load;
    load.catalog = &FaultRegistry::Global();
    load.env = [](const std::string& name) -> std::optional<std::string> {
      return "${" + name + "}";
    };
    experiment = LoadExperimentText(source->native_text, load, errors);
  }
  if (!source || !experiment) {
    for (const auto& line : errors.Format(request.file)) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "%zu error%s; nothing was written\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 2;
  }
  const std::string out = source->native_text + "\n";
  if (request.output.empty() || request.output == kStandardInputName) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  } else {
    std::FILE* f = std::fopen(request.output.c_str(), "w");
    if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size() ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "ringfence convert: cannot write %s\n", request.output.c_str());
      return 3;
    }
    ::chmod(request.output.c_str(), 0644);
  }
  for (const auto& note : source->ctk->notes) {
    std::fprintf(stderr, "%s: note: %s\n", request.file.c_str(), note.c_str());
  }
  size_t faults = 0, steps = 0;
  for (const auto& s : experiment->method) {
    faults += s.kind == MethodStep::Kind::kFault;
    steps += s.kind == MethodStep::Kind::kAction;
  }
  std::fprintf(stderr, "%s: converted: %zu native fault%s, %zu command or HTTP step%s%s%s\n",
               request.file.c_str(), faults, faults == 1 ? "" : "s", steps, steps == 1 ? "" : "s",
               request.output.empty() ? "" : " → ", request.output.c_str());
  return 0;
}

}  // namespace ringfence
