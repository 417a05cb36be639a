#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/base/run_request.h"

namespace ringfence {

// The suite options of `ringfence run` and `ringfence suite` (docs/suites.md).
struct SuiteOptions {
  std::vector<std::string> files;      // run: FILE... (files and folders); suite: the suite file
  std::string journal_dir;             // --journal-dir ("" when not given)
  bool fail_fast = false;              // --fail-fast
  std::vector<std::string> tags;       // --tags a,b
  std::vector<std::string> skip_tags;  // --skip-tags a,b
  std::vector<std::string> var_files;  // --var-file F, in the order given (the last one wins)
  // run: the line asks for a suite (several FILEs, a folder, or a suite-only option); a single
  // FILE without them keeps the behaviour of one run.
  bool suite = false;
  bool journal_given = false;  // run --journal (one run's journal; refused for a suite)
};

// Reads the --var-file files into `vars` under what is there already (--var beats --var-file;
// a later file beats an earlier one). On any problem prints every error with its pointer
// ("vars.json: /port: [1]: a string, a number, true or false") on stderr and returns false.
bool ApplyVarFiles(const std::vector<std::string>& files, std::map<std::string, std::string>& vars);

// `ringfence run FILE [...]`: one run (RunExperimentFile) or, for options.suite, a suite of the
// files and folders' *.json. Returns the exit code (docs/cli.md, docs/suites.md).
int RunFilesCommand(const SuiteOptions& options, const RunRequest& run);

// `ringfence suite FILE`: the suite file's experiments, through the same engine. The command
// line's --journal-dir, --fail-fast, --tags and --skip-tags replace the file's settings.
int RunSuiteFileCommand(const SuiteOptions& options, const RunRequest& run);

}  // namespace ringfence
