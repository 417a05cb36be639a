#include "runner/commands/suite_command.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "core/base/input_file.h"
#include "runner/base/var_file.h"
#include "runner/run/experiment_runner.h"
#include "runner/run/suite_file.h"
#include "runner/run/suite_runner.h"

namespace ringfence {

namespace {

// The default folder of a suite's journals.
constexpr char kDefaultJournalDir[] = "ringfence-journals";

// `layer` laid over `vars`: its values win.
void Overlay(std::map<std::string, std::string>& vars,
             const std::map<std::string, std::string>& layer) {
  for (const auto& [k, v] : layer) vars[k] = v;
}

}  // namespace

bool ApplyVarFiles(const std::vector<std::string>& files,
                   std::map<std::string, std::string>& vars) {
  std::map<std::string, std::string> from_files;
  size_t count = 0;
  for (const auto& file : files) {
    ValidationErrors errors;
    if (!ReadVarFile(file, from_files, errors)) {
      for (const auto& line : errors.Format(file)) std::fprintf(stderr, "%s\n", line.c_str());
      count += errors.size();
    }
  }
  if (count > 0) {
    std::fprintf(stderr, "%zu error%s in --var-file; nothing was run\n", count,
                 count == 1 ? "" : "s");
    return false;
  }
  Overlay(from_files, vars);
  vars = std::move(from_files);
  return true;
}

int RunFilesCommand(const SuiteOptions& given, const RunRequest& run) {
  SuiteOptions options = given;
  // One folder is a suite too, unless --journal names one run's journal: then it is read as
  // the experiment file it was given as (and refused as a directory, as before suites).
  std::error_code ec;
  if (!options.suite && !options.journal_given && options.files.front() != kStandardInputName &&
      std::filesystem::is_directory(options.files.front(), ec)) {
    options.suite = true;
  }
  RunRequest request = run;
  if (!ApplyVarFiles(options.var_files, request.vars)) return 2;
  if (!options.suite) {
    request.file = options.files.front();
    return RunExperimentFile(request);
  }
  std::vector<std::string> errors;
  const std::vector<std::string> files = ExpandSuiteArguments(options.files, errors);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "%zu error%s; nothing was run\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 2;
  }
  SuiteRequest suite;
  for (const auto& f : files) suite.experiments.push_back({f, request.vars});
  suite.run = request;
  suite.journal_dir = options.journal_dir.empty() ? kDefaultJournalDir : options.journal_dir;
  suite.fail_fast = options.fail_fast;
  suite.tags = options.tags;
  suite.skip_tags = options.skip_tags;
  return RunSuite(suite).exit_code;
}

int RunSuiteFileCommand(const SuiteOptions& options, const RunRequest& run) {
  const std::string& path = options.files.front();
  ValidationErrors errors;
  std::vector<std::pair<std::string, ValidationErrors>> var_file_errors;
  std::optional<SuiteFile> file = LoadSuiteFile(path, errors, var_file_errors);
  if (!file) {
    size_t count = errors.size();
    for (const auto& line : errors.Format(path)) std::fprintf(stderr, "%s\n", line.c_str());
    for (const auto& [name, e] : var_file_errors) {
      for (const auto& line : e.Format(name)) std::fprintf(stderr, "%s\n", line.c_str());
      count += e.size();
    }
    std::fprintf(stderr, "%zu error%s; nothing was run\n", count, count == 1 ? "" : "s");
    return 2;
  }
  // The command line beats the file: --var, then --var-file, over each experiment's vars.
  std::map<std::string, std::string> line_vars = run.vars;
  if (!ApplyVarFiles(options.var_files, line_vars)) return 2;
  SuiteRequest suite;
  suite.run = run;
  for (auto& entry : file->experiments) {
    Overlay(entry.vars, line_vars);
    suite.experiments.push_back(std::move(entry));
  }
  suite.journal_dir = !options.journal_dir.empty() ? options.journal_dir
                      : file->journal_dir          ? *file->journal_dir
                                                   : kDefaultJournalDir;
  suite.fail_fast = options.fail_fast || file->fail_fast;
  suite.tags = !options.tags.empty() ? options.tags : file->tags;
  suite.skip_tags = !options.skip_tags.empty() ? options.skip_tags : file->skip_tags;
  if (!file->title.empty()) {
    std::printf("suite: %s (%zu experiments)\n", file->title.c_str(), suite.experiments.size());
    std::fflush(stdout);
  }
  return RunSuite(suite).exit_code;
}

}  // namespace ringfence
