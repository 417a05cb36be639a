#include "runner/run/suite_runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>

#include "core/base/input_file.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/model/experiment.h"
#include "runner/base/redaction.h"
#include "runner/run/experiment_runner.h"

namespace ringfence {

namespace {

namespace fs = std::filesystem;

// How bad an exit code is for a suite (higher is worse).
int Severity(int code) {
  switch (code) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 2;
    case 3:
      return 3;
    case 129:
    case 130:
    case 143:
      return 4;
    case 4:
      return 5;
    default:
      return 3;  // anything else is a runtime error
  }
}

bool Interrupted(int code) { return code == 129 || code == 130 || code == 143; }

// A member's status from how its run ended.
std::string MemberStatus(int code, const RunOutcome& outcome) {
  if (code == 4) return "revert_failed";
  if (outcome.ran) {
    if (outcome.status == "not_steady") return "failed";
    if (outcome.status == "interrupted") return "aborted";
    return outcome.status;
  }
  switch (code) {
    case 0:
      return "passed";
    case 1:
      return "failed";
    default:
      return Interrupted(code) ? "aborted" : "error";
  }
}

std::string Join(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

bool AnyOf(const std::vector<std::string>& tags, const std::vector<std::string>& wanted) {
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
    return std::find(wanted.begin(), wanted.end(), t) != wanted.end();
  });
}

// Why an experiment with `tags` is left out by --tags / --skip-tags ("" when it runs).
std::string TagRefusal(const std::vector<std::string>& tags, const SuiteRequest& request) {
  if (!request.tags.empty() && !AnyOf(tags, request.tags)) {
    return "not run: its tags (" + (tags.empty() ? std::string("none") : Join(tags, ", ")) +
           ") include none of --tags " + Join(request.tags, ",");
  }
  for (const auto& t : tags) {
    if (std::find(request.skip_tags.begin(), request.skip_tags.end(), t) !=
        request.skip_tags.end()) {
      return "not run: tagged " + t + " (--skip-tags)";
    }
  }
  return "";
}

// Secrets the error lines of the validation must not show (as RunExperimentFile redacts them).
Redactor SuiteRedactor(const SuiteRequest& request, const SuiteEntry& entry) {
  Redactor redactor;
  for (const auto& [name, value] : request.run.secrets) redactor.Add(name, value);
  for (const auto& [name, value] : entry.vars) {
    if (LooksSecret(name)) redactor.Add(name, value);
  }
  return redactor;
}

void SkipRest(std::vector<SuiteMember>& members, size_t from, const std::string& why) {
  for (size_t i = from; i < members.size(); ++i) {
    if (members[i].status.empty()) {
      members[i].status = "skipped";
      members[i].errors = {why};
    }
  }
}

SuiteResult Finish(std::vector<SuiteMember> members) {
  SuiteResult result{std::move(members), 0};
  result.exit_code = SuiteExitCode(result.members);
  std::string table = "\n" + SuiteSummaryTable(result.members);
  std::fwrite(table.data(), 1, table.size(), stdout);
  std::fflush(stdout);
  return result;
}

}  // namespace

int SuiteExitCode(const std::vector<SuiteMember>& members) {
  int worst = 0;
  for (const auto& m : members) {
    if (Severity(m.exit_code) > Severity(worst)) worst = m.exit_code;
  }
  return worst;
}

std::vector<std::string> SuiteJournalPaths(const std::vector<std::string>& files,
                                           const std::string& dir) {
  std::vector<std::string> paths;
  std::set<std::string> taken;
  for (const auto& file : files) {
    std::string name = fs::path(file).filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
      name.resize(name.size() - 5);
    }
    if (name.empty() || name == "." || name == ".." || name == "-") name = "experiment";
    std::string unique = name;
    for (int n = 2; !taken.insert(unique).second; ++n) unique = name + "-" + std::to_string(n);
    paths.push_back((fs::path(dir) / (unique + ".journal.json")).string());
  }
  return paths;
}

std::vector<std::string> ExpandSuiteArguments(const std::vector<std::string>& args,
                                              std::vector<std::string>& errors) {
  std::vector<std::string> files;
  for (const auto& arg : args) {
    std::error_code ec;
    if (arg == kStandardInputName || !fs::is_directory(arg, ec)) {
      files.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    fs::directory_iterator it(arg, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      if (it->path().extension() == ".json" && !it->is_directory(type_ec)) {
        found.push_back(it->path().string());
      }
    }
    if (ec) {
      errors.push_back(arg + ": cannot list the folder (" + ec.message() + ")");
      continue;
    }
    if (found.empty()) {
      errors.push_back(arg + ": a folder with no *.json experiment files");
      continue;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::string SuiteSummaryTable(const std::vector<SuiteMember>& members) {
  size_t file_width = 4, status_width = 6;
  std::map<std::string, int> counts;
  for (const auto& m : members) {
    file_width = std::max(file_width, m.file.size());
    status_width = std::max(status_width, m.status.size());
    ++counts[m.status];
  }
  std::string counted;
  for (const char* s :
       {"passed", "failed", "aborted", "error", "revert_failed", "invalid", "skipped"}) {
    if (counts[s] > 0)
      counted += (counted.empty() ? "" : ", ") + std::to_string(counts[s]) + " " + s;
  }
  auto row = [&](const std::string& file, const std::string& status, const std::string& exit,
                 const std::string& journal) {
    std::string line = "  " + file + std::string(file_width - file.size() + 2, ' ') + status +
                       std::string(status_width - status.size() + 2, ' ') + exit +
                       std::string(exit.size() < 4 ? 4 - exit.size() + 2 : 2, ' ') + journal;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::string out = "suite: " + std::to_string(members.size()) + " experiment" +
                    (members.size() == 1 ? "" : "s") + ": " + counted + " (exit " +
                    std::to_string(SuiteExitCode(members)) + ")\n";
  out += row("file", "status", "exit", "journal");
  for (const auto& m : members) {
    out += row(m.file, m.status, m.status == "skipped" ? "-" : std::to_string(m.exit_code),
               m.journal_path.empty() ? "-" : m.journal_path);
    for (const auto& e : m.errors) {
      if (m.status != "invalid") out += "      " + e + "\n";
    }
  }
  return out;
}

namespace {

SuiteResult RunSuiteMembers(const SuiteRequest& request) {
  const size_t n = request.experiments.size();
  std::vector<SuiteMember> members(n);
  std::vector<std::string> files;
  for (const auto& e : request.experiments) files.push_back(e.file);
  const std::vector<std::string> journals =
      SuiteJournalPaths(files, request.journal_dir.empty() ? "." : request.journal_dir);

  // 1. Every file is validated before anything runs.
  std::vector<std::vector<std::string>> tags(n);
  size_t invalid = 0;
  for (size_t i = 0; i < n; ++i) {
    const SuiteEntry& entry = request.experiments[i];
    SuiteMember& m = members[i];
    m.file = entry.file;
    ValidationErrors errors;
    if (entry.file == kStandardInputName) {
      errors.Add("", "standard input (-)", "a file: a suite cannot read standard input");
    } else {
      LoadOptions options;
      options.vars = entry.vars;
      for (const auto& [name, value] : request.run.secrets) options.vars[name] = value;
      options.catalog = &FaultRegistry::Global();
      if (auto experiment = LoadExperimentFile(entry.file, options, errors)) {
        m.title = experiment->title;
        tags[i] = experiment->tags;
      }
    }
    if (!errors.empty()) {
      const Redactor redactor = SuiteRedactor(request, entry);
      for (const auto& line : errors.Format(entry.file)) m.errors.push_back(redactor.Apply(line));
      m.status = "invalid";
      m.exit_code = 2;
      ++invalid;
    }
  }
  if (invalid > 0) {
    for (const auto& m : members) {
      for (const auto& line : m.errors) std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fprintf(stderr, "%zu of %zu experiment files invalid; nothing was run\n", invalid, n);
    SkipRest(members, 0, "not run: the suite has invalid files");
    return Finish(std::move(members));
  }

  spdlog::debug("suite: {} experiment files valid", n);

  // 2. Tags.
  size_t selected = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string why = TagRefusal(tags[i], request);
    if (why.empty()) {
      ++selected;
    } else {
      members[i].status = "skipped";
      members[i].errors = {why};
    }
  }

  // 3. One lock for the whole suite; the journal dir.
  std::optional<StateDirLock> lock;
  if (selected > 0 && !request.run.dry_run) {
    std::error_code ec;
    fs::create_directories(request.journal_dir.empty() ? "." : request.journal_dir, ec);
    if (ec) {
      std::fprintf(stderr,
                   "ringfence: --journal-dir %s: cannot make the folder (%s); nothing was run\n",
                   request.journal_dir.c_str(), ec.message().c_str());
      for (auto& m : members) {
        if (m.status.empty()) m.exit_code = 2;
      }
      SkipRest(members, 0, "not run: the journal folder cannot be made");
      for (auto& m : members) {
        if (m.exit_code == 2) m.status = "error";
      }
      return Finish(std::move(members));
    }
    const std::string state_dir =
        request.run.state_dir.empty() ? DefaultStateDir() : request.run.state_dir;
    if (!request.run.allow_concurrent) {
      auto acquired = AcquireRunLock(state_dir);
      if (!acquired.ok()) {
        SkipRest(members, 0, "not run: " + acquired.status().message());
        SuiteResult result = Finish(std::move(members));
        result.exit_code = 3;
        return result;
      }
      lock.emplace(std::move(*acquired));
    }
  }

  // 4. One after another.
  size_t position = 0;
  for (size_t i = 0; i < n; ++i) {
    SuiteMember& m = members[i];
    if (!m.status.empty()) continue;
    ++position;
    RunRequest run = request.run;
    run.file = request.experiments[i].file;
    run.vars = request.experiments[i].vars;
    run.journal = journals[i];
    run.held_lock_fd = lock ? lock->fd() : -1;
    run.report_html.clear();  // the suite's reports are written once, at its end
    run.report_junit.clear();
    run.report_summary.clear();
    spdlog::debug("suite: {}: journal {}", run.file, run.journal);
    std::printf("%ssuite: [%zu/%zu] %s\n", position > 1 ? "\n" : "", position, selected,
                run.file.c_str());
    std::fflush(stdout);
    RunOutcome outcome;
    m.exit_code = RunExperimentFile(run, &outcome);
    m.status = MemberStatus(m.exit_code, outcome);
    if (outcome.ran) {
      m.title = outcome.title;
      if (m.status != "passed" && !outcome.reason.empty()) m.errors.push_back(outcome.reason);
    }
    if (outcome.journal_written) m.journal_path = run.journal;
    if (m.exit_code == 4) {
      // Its ledger shows a fault left in place: no run may start before `ringfence recover`.
      SkipRest(members, i + 1,
               "not run: a revert failed in " + m.file + "; run `ringfence recover` first");
      break;
    }
    if (Interrupted(m.exit_code)) {
      SkipRest(members, i + 1, "not run: the suite was interrupted");
      break;
    }
    if (request.fail_fast && m.status != "passed") {
      SkipRest(members, i + 1, "not run: --fail-fast after " + m.file + " (" + m.status + ")");
      break;
    }
  }
  return Finish(std::move(members));
}

// The suite's reports, from its result list. A report that fails is an error on stderr: the
// exit code stays the suite's.
void WriteSuiteReports(const RunRequest& run, const SuiteResult& result) {
  const std::pair<const std::string*,
                  Status (*)(const std::vector<SuiteMember>&, const std::string&)>
      writers[] = {{&run.report_html, WriteSuiteIndexHtml},
                   {&run.report_junit, WriteSuiteJUnit},
                   {&run.report_summary, WriteSuiteMarkdown}};
  for (const auto& [path, write] : writers) {
    if (path->empty()) continue;
    Status written = write(result.members, *path);
    if (written.ok()) {
      std::printf("  report: %s\n", path->c_str());
    } else {
      spdlog::error("report not written: {}", written.message());
    }
  }
  std::fflush(stdout);
}

}  // namespace

SuiteResult RunSuite(const SuiteRequest& request) {
  if (int code = CheckRequestedReports(request.run); code != 0) {
    SuiteResult refused;
    refused.exit_code = code;
    return refused;
  }
  SuiteResult result = RunSuiteMembers(request);
  WriteSuiteReports(request.run, result);
  return result;
}

}  // namespace ringfence
