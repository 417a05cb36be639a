#include "report/run_facts.h"

#include <algorithm>

#include "core/base/shell_quote.h"
#include "report/markup.h"

namespace ringfence {

VerdictWord VerdictOf(const JournalModel& run) {
  if (!run.manual_undo.empty() || !run.reverted_cleanly) return {"revert-failed", "REVERT FAILED"};
  if (run.incomplete) return {"incomplete", "INCOMPLETE"};
  const std::string& s = run.status;
  if (s == "passed") return {"passed", "PASSED"};
  if (s == "failed") return {"failed", "FAILED"};
  if (s == "not_steady") return {"failed", "FAILED (NOT STEADY)"};
  if (s == "aborted") {
    if (run.abort && run.abort->by_operator()) return {"aborted", "ABORTED BY OPERATOR"};
    return {"aborted", "ABORTED"};
  }
  if (s == "interrupted") return {"interrupted", "INTERRUPTED"};
  return {"error", "ERROR"};
}

std::string ReplayCommand(const JournalModel& run, bool* known) {
  if (known) *known = !run.command_line.empty();
  const std::string seed = std::to_string(run.seed);
  if (run.command_line.empty()) return "ringfence run EXPERIMENT.json --seed " + seed;
  std::vector<std::string> argv;
  bool seeded = false;
  for (size_t i = 0; i < run.command_line.size(); ++i) {
    const std::string& word = run.command_line[i];
    if (word == "--seed" && i + 1 < run.command_line.size()) {
      argv.insert(argv.end(), {"--seed", seed});
      seeded = true;
      ++i;
    } else if (word.rfind("--seed=", 0) == 0) {
      argv.push_back("--seed=" + seed);
      seeded = true;
    } else {
      argv.push_back(word);
    }
  }
  if (!argv.empty()) {
    const size_t slash = argv[0].rfind('/');
    if (slash != std::string::npos && argv[0].find("ringfence") != std::string::npos) {
      argv[0] = argv[0].substr(slash + 1);  // the program as a person types it
    }
  }
  if (!seeded) argv.insert(argv.end(), {"--seed", seed});
  return ShellJoin(argv);
}

std::string ToleranceText(const nlohmann::json& t) {
  if (t.is_null()) return "";
  if (!t.is_object()) return ValueText(t);
  const bool has_min = t.contains("min") && t["min"].is_number();
  const bool has_max = t.contains("max") && t["max"].is_number();
  if (has_min && has_max) return ValueText(t["min"]) + " … " + ValueText(t["max"]);
  if (has_min) return "≥ " + ValueText(t["min"]);
  if (has_max) return "≤ " + ValueText(t["max"]);
  if (t.contains("regex") && t["regex"].is_string())
    return "matches " + t["regex"].get<std::string>();
  if (t.contains("exact")) return "= " + ValueText(t["exact"]);
  return t.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return Figure(v.get<double>());
  if (v.is_null()) return "—";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<RevertRow> RevertRows(const JournalModel& run) {
  std::vector<RevertRow> rows;
  for (const auto& f : run.faults) {
    for (const auto& t : f.targets) {
      if (!t.has_undo) continue;
      rows.push_back({&f, &t, !t.revert_ok});
    }
  }
  std::stable_partition(rows.begin(), rows.end(), [](const RevertRow& r) { return r.failed; });
  return rows;
}

std::string RevertedByText(const JournalModel& run, const TargetView& target) {
  if (!target.reverted_by.empty()) return target.reverted_by;
  if (!target.revert_ok) return "nobody (not reverted)";
  return run.version < 3
             ? "runner (assumed: journal_version " + std::to_string(run.version) + " does not say)"
             : "runner";
}

std::string ActiveFor(const TargetView& target) {
  if (!target.injected_t || !target.reverted_t) return "";
  return HumanSeconds(*target.reverted_t - *target.injected_t);
}

namespace {
// "step 2 (second)": 1-based as the dashboard counts them.
std::string StepText(int64_t index, const std::string& name) {
  return "step " + std::to_string(index + 1) + (name.empty() ? "" : " (" + name + ")");
}
}  // namespace

std::vector<OperatorRow> OperatorRows(const JournalModel& run) {
  std::vector<OperatorRow> rows;
  for (const auto& a : run.operator_actions) {
    OperatorRow r{a.t, a.at, a.who, a.action, a.text};
    if (a.action == "abort" && r.detail.empty()) r.detail = "every active fault reverted";
    if (a.action == "skip" && r.detail.empty()) r.detail = "skip the next step";
    if (a.before_step) {
      r.detail += (r.detail.empty() ? "" : "; ") + std::string("before ") +
                  StepText(*a.before_step, a.step);
    }
    rows.push_back(std::move(r));
  }
  for (const auto& m : run.method) {
    if (!m.skipped) continue;
    rows.push_back(
        {m.t, m.at, m.skipped_by, "step skipped", StepText(m.step, m.name) + " not run"});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const OperatorRow& a, const OperatorRow& b) {
    if (a.t && b.t) return *a.t < *b.t;
    return a.t.has_value() && !b.t.has_value();
  });
  return rows;
}

std::string AtText(const std::optional<double>& t, const std::string& at) {
  if (!t) return at;
  std::string text = "T+" + HumanSeconds(*t);
  if (!at.empty()) text += " (" + at + ")";
  return text;
}

}  // namespace ringfence
