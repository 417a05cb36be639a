#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/validation.h"
#include "runner/run/suite_runner.h"

namespace ringfence {

// A suite file (`ringfence suite FILE`; docs/suites.md, docs/suite.schema.json), read and
// checked. Paths of experiments and var files are resolved against the suite file's folder.
struct SuiteFile {
  std::string title;
  // Each experiment's placeholders: its own `vars` beat its `var_files` (the later file beating
  // the earlier), which beat the suite's `vars` and then the suite's `var_files`. The command
  // line's --var-file and --var are laid over these by the caller.
  std::vector<SuiteEntry> experiments;
  std::optional<std::string> journal_dir;  // as written (relative to the current directory)
  bool fail_fast = false;
  std::vector<std::string> tags;
  std::vector<std::string> skip_tags;
};

// Reads and checks the suite file at `path`, and every var file it names. Every problem is
// added to `errors` with its JSON pointer (a var file's own problems under that file's name in
// `var_file_errors`, one entry per file that has any); nullopt when there is any. Experiment
// files are not read here (the suite validates them before it runs anything). Never throws.
std::optional<SuiteFile> LoadSuiteFile(
    const std::string& path, ValidationErrors& errors,
    std::vector<std::pair<std::string, ValidationErrors>>& var_file_errors);

}  // namespace ringfence
