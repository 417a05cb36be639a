#include "report/junit.h"

#include <vector>

#include "report/markup.h"
#include "report/run_facts.h"

namespace ringfence {

namespace {

std::string Attr(const std::string& s) { return EscapeText(s); }

struct TestCase {
  enum class Outcome { kPassed, kFailed, kError, kSkipped };
  explicit TestCase(std::string name_, double seconds_ = 0, Outcome outcome_ = Outcome::kPassed,
                    std::string message_ = "")
      : name(std::move(name_)),
        seconds(seconds_),
        outcome(outcome_),
        message(std::move(message_)) {}

  std::string name;
  double seconds = 0;
  Outcome outcome = Outcome::kPassed;
  std::string message;  // the reason, one line
  std::string text;     // details: measured value, manual undo, stderr
};

std::string CaseXml(const TestCase& c, const std::string& classname) {
  std::string out = "    <testcase classname=\"" + Attr(classname) + "\" name=\"" + Attr(c.name) +
                    "\" time=\"" + Fixed(c.seconds, 3) + "\"";
  const char* element = c.outcome == TestCase::Outcome::kFailed    ? "failure"
                        : c.outcome == TestCase::Outcome::kError   ? "error"
                        : c.outcome == TestCase::Outcome::kSkipped ? "skipped"
                                                                   : nullptr;
  if (element == nullptr) return out + "/>\n";
  out += ">\n      <" + std::string(element) + " message=\"" + Attr(c.message) + "\"";
  if (c.outcome != TestCase::Outcome::kSkipped) {
    out += " type=\"" + std::string(element) + "\"";
  }
  if (c.text.empty()) {
    out += "/>\n";
  } else {
    out += ">" + EscapeText(c.text) + "</" + element + ">\n";
  }
  return out + "    </testcase>\n";
}

TestCase ProbeCase(const ProbeView& p, const std::string& when) {
  TestCase c{when + ": " + p.name};
  if (!p.met) {
    c.outcome = TestCase::Outcome::kFailed;
    c.message = "measured " + ValueText(p.value) + ", tolerance " + ToleranceText(p.tolerance);
    c.text = p.detail;
  }
  return c;
}

void FaultCases(const JournalModel& run, const FaultView& f, std::vector<TestCase>& out) {
  bool injected = false;
  double seconds = 0;
  for (const auto& t : f.targets) {
    injected = injected || t.injected_t.has_value();
    if (t.injected_t && t.reverted_t) seconds = std::max(seconds, *t.reverted_t - *t.injected_t);
  }
  TestCase expectation{"fault " + f.name + " (" + f.type + "): expectation", seconds};
  TestCase revert{"fault " + f.name + " (" + f.type + "): revert"};
  if (!injected) {
    expectation.outcome = revert.outcome = TestCase::Outcome::kSkipped;
    expectation.message = revert.message = "the fault did not start: " + run.reason;
  } else {
    if (!f.expectation_met) {
      expectation.outcome = TestCase::Outcome::kFailed;
      expectation.message =
          f.expectation_detail.empty() ? "expectation not met" : f.expectation_detail;
      expectation.text =
          "observed: " + f.observed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (!f.revert_ok) {
      revert.outcome = TestCase::Outcome::kError;
      revert.message = "not every target was reverted";
      for (const auto& t : f.targets) {
        if (t.has_undo && !t.revert_ok) {
          revert.text += t.label + ": " + t.error + "; undo by hand: " + t.manual_undo + "\n";
        }
      }
    }
  }
  out.push_back(expectation);
  out.push_back(revert);
}

TestCase GuardCase(const GuardView& g) {
  TestCase c{"guard " + g.name};
  if (g.samples.size() > 1) c.seconds = g.samples.back().t - g.samples.front().t;
  if (g.breached) {
    c.outcome = TestCase::Outcome::kFailed;
    c.message = g.breach_reason.empty() ? "breached" : g.breach_reason;
    c.text = "condition: " + g.threshold;
  } else if (g.samples_total == 0) {
    c.outcome = TestCase::Outcome::kSkipped;
    c.message = "no sample was taken";
  }
  return c;
}

TestCase RollbackCase(const RollbackView& r) {
  TestCase c{"rollback " + r.name};
  if (!r.ok) {
    c.outcome = TestCase::Outcome::kFailed;
    c.message = r.timed_out        ? "timed out"
                : !r.error.empty() ? r.error
                : r.exit_code      ? "exited with " + std::to_string(*r.exit_code)
                                   : "failed";
    c.text = r.stderr_text;
  }
  return c;
}

std::vector<TestCase> Cases(const JournalModel& run) {
  std::vector<TestCase> cases;
  if (run.status == "error" || run.status == "interrupted" || run.incomplete) {
    cases.emplace_back("run", run.duration_s.value_or(0), TestCase::Outcome::kError, run.reason);
  }
  for (const auto& p : run.before) cases.push_back(ProbeCase(p, "steady state before"));
  for (const auto& f : run.faults) FaultCases(run, f, cases);
  for (const auto& g : run.guards) cases.push_back(GuardCase(g));
  for (const auto& m : run.method) {
    if (m.probe) cases.push_back(ProbeCase(*m.probe, "method probe"));
  }
  if (run.after) {
    for (const auto& p : *run.after) cases.push_back(ProbeCase(p, "steady state after"));
  } else {
    for (const auto& p : run.before) {
      cases.emplace_back("steady state after: " + p.name, 0, TestCase::Outcome::kSkipped,
                         "not checked: " + run.reason);
    }
  }
  for (const auto& r : run.rollbacks) cases.push_back(RollbackCase(r));
  return cases;
}

}  // namespace

std::string JUnitTestSuite(const JournalModel& run, const std::string& journal_path) {
  const std::vector<TestCase> cases = Cases(run);
  size_t failures = 0, errors = 0, skipped = 0;
  for (const auto& c : cases) {
    failures += c.outcome == TestCase::Outcome::kFailed;
    errors += c.outcome == TestCase::Outcome::kError;
    skipped += c.outcome == TestCase::Outcome::kSkipped;
  }
  const std::string name = run.title.empty() ? "run " + run.run_id : run.title;
  std::string out = "  <testsuite name=\"" + Attr(name) + "\" tests=\"" +
                    std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
                    "\" errors=\"" + std::to_string(errors) + "\" skipped=\"" +
                    std::to_string(skipped) + "\" time=\"" + Fixed(run.duration_s.value_or(0), 3) +
                    "\" timestamp=\"" + Attr(run.started_at) + "\" hostname=\"" + Attr(run.host) +
                    "\">\n    <properties>\n";
  auto property = [&out](const std::string& key, const std::string& value) {
    out += "      <property name=\"" + Attr(key) + "\" value=\"" + Attr(value) + "\"/>\n";
  };
  property("run_id", run.run_id);
  property("seed", std::to_string(run.seed));
  property("journal", journal_path);
  property("status", run.status);
  property("verdict", VerdictOf(run).key);
  property("reason", run.reason);
  property("replay", ReplayCommand(run));
  property("ringfence_version", run.ringfence_version);
  out += "    </properties>\n";
  for (const auto& c : cases) out += CaseXml(c, name);
  return out + "  </testsuite>\n";
}

std::string JUnitDocument(const std::string& suites, const std::string& name) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + Attr(name) + "\">\n" +
         suites + "</testsuites>\n";
}

std::string RenderJUnit(const JournalModel& run, const std::string& journal_path) {
  return JUnitDocument(JUnitTestSuite(run, journal_path), "ringfence");
}

}  // namespace ringfence
