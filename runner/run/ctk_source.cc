#include "runner/run/ctk_source.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/base/duration.h"
#include "core/import/yaml_document.h"
#include "core/model/experiment.h"

namespace ringfence {

namespace {

using ojson = nlohmann::ordered_json;

// Parses JSON with the native loader's limits (depth, size, duplicate keys): through the
// loader itself, which reports syntax errors with line and column; the document is read back
// from the text (a second parse of bytes already checked).
std::optional<ojson> ParseJson(const std::string& text, ValidationErrors& errors) {
  ojson doc = ojson::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    // Let the loader say what is wrong, in its words.
    LoadOptions options;
    ValidationErrors loader;
    (void)LoadExperimentText(text, options, loader);
    for (const auto& e : loader.errors()) {
      if (e.line > 0) {
        errors.AddSyntax(e.line, e.column, e.found, e.allowed);
      } else {
        errors.Add(e.pointer, e.found, e.allowed);
      }
    }
    if (errors.empty()) errors.Add("", FoundValue(doc), "a JSON object");
    return std::nullopt;
  }
  return doc;
}

// Depth of a parsed document, bounded: stops counting past `limit`.
int Depth(const ojson& v, int limit) {
  if (limit < 0 || !(v.is_object() || v.is_array())) return 0;
  int deepest = 0;
  for (const auto& x : v) deepest = std::max(deepest, Depth(x, limit - 1));
  return deepest + 1;
}

nlohmann::json ProbeRun(const nlohmann::json& outcome, const nlohmann::json& activity,
                        const std::string& at) {
  const bool met = outcome.value("met", false);
  return {{"activity", activity},
          {"output", outcome.value("value", nlohmann::json())},
          {"status", outcome.value("value", nlohmann::json()).is_null() ? "failed" : "succeeded"},
          {"tolerance_met", met},
          {"exception", outcome.value("detail", std::string()).empty()
                            ? nlohmann::json(nullptr)
                            : nlohmann::json(outcome.value("detail", std::string()))},
          {"start", at},
          {"end", at},
          {"duration", 0}};
}

// Seconds since the epoch of a journal time ("2026-12-07T20:00:04.123Z"); nullopt if not one.
std::optional<double> EpochSeconds(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (t.size() != 24 || ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr ||
      std::sscanf(t.c_str() + 20, "%3dZ", &ms) != 1) {
    return std::nullopt;
  }
  return static_cast<double>(::timegm(&tm)) + ms / 1000.0;
}

}  // namespace

SourceOptions ChaosToolkitSourceOptions(const RunRequest& request) {
  SourceOptions options;
  options.format = request.format;
  options.ctk.vars = request.vars;
  for (const auto& [name, value] : request.secrets) options.ctk.vars[name] = value;
  options.ctk.rollback_strategy = request.rollback_strategy;
  options.ctk.hypothesis_strategy = request.hypothesis_strategy;
  if (request.hypothesis_frequency)
    options.ctk.hypothesis_frequency = *request.hypothesis_frequency;
  options.ctk.fail_fast = request.fail_fast;
  return options;
}

std::optional<ExperimentSource> ReadExperimentSource(const std::string& file,
                                                     const std::string& text,
                                                     const SourceOptions& options,
                                                     ValidationErrors& errors) {
  ExperimentSource source;
  if (!IsYamlPath(file) && options.format != "ctk") {
    // A native JSON file goes to the loader untouched (its errors are its own); only a
    // document that parses and looks like Chaos Toolkit's is converted.
    ojson doc = ojson::parse(text, nullptr, false);
    if (options.format == "native" || doc.is_discarded() || !LooksLikeChaosToolkit(doc) ||
        Depth(doc, kMaxExperimentDepth + 1) > kMaxExperimentDepth) {
      source.native_text = text;
      return source;
    }
  }
  if (text.size() > kMaxExperimentBytes) {
    errors.Add("", std::to_string(text.size()) + " bytes",
               "a file of at most 1048576 bytes (1 MiB)");
    return std::nullopt;
  }
  std::optional<ojson> doc = IsYamlPath(file) ? ParseYamlDocument(text, kMaxExperimentDepth, errors)
                                              : ParseJson(text, errors);
  if (!doc) return std::nullopt;
  if (!doc->is_object()) {
    errors.Add("", FoundValue(*doc), "an experiment object");
    return std::nullopt;
  }
  if (options.format == "native" || (options.format == "auto" && !LooksLikeChaosToolkit(*doc))) {
    // A native experiment written in YAML.
    source.native_text = doc->dump();
    source.original = *doc;
    return source;
  }
  auto converted = ConvertChaosToolkit(*doc, options.ctk, errors);
  if (!converted) return std::nullopt;
  source.native_text = converted->native.dump(2);
  source.original = *doc;
  source.ctk = std::move(converted);
  return source;
}

std::string ChaosToolkitJournalPath(const std::string& native_journal) {
  const std::filesystem::path native(native_journal);
  // Beside the native journal; never over it.
  return (native.parent_path() /
          (native.filename() == "journal.json" ? "chaostoolkit-journal.json" : "journal.json"))
      .string();
}

nlohmann::json ChaosToolkitJournal(const nlohmann::json& journal, const ExperimentSource& source) {
  const std::string status = journal.value("status", "error");
  const std::string start = journal.value("started_at", "");
  const std::string end = journal.value("ended_at", "");
  // Activities by name: the hypothesis probes and the method's activities.
  std::map<std::string, nlohmann::json> by_name;
  const nlohmann::json original(source.original);
  if (original.contains("steady-state-hypothesis") &&
      original["steady-state-hypothesis"].is_object()) {
    for (const auto& p :
         original["steady-state-hypothesis"].value("probes", nlohmann::json::array())) {
      if (p.is_object() && p.contains("name") && p["name"].is_string()) by_name[p["name"]] = p;
    }
  }
  const nlohmann::json activities =
      source.ctk ? nlohmann::json(source.ctk->activities) : nlohmann::json::array();
  for (const auto& a : activities) {
    if (a.contains("name") && a["name"].is_string()) by_name[a["name"]] = a;
  }
  if (original.contains("rollbacks") && original["rollbacks"].is_array()) {
    for (const auto& a : original["rollbacks"]) {
      if (a.is_object() && a.contains("name") && a["name"].is_string()) by_name[a["name"]] = a;
    }
  }
  auto activity_of = [&](const nlohmann::json& outcome) {
    auto it = by_name.find(outcome.value("name", ""));
    return it != by_name.end() ? it->second : nlohmann::json({{"name", outcome.value("name", "")}});
  };
  auto steady = [&](const nlohmann::json& probes) -> nlohmann::json {
    if (!probes.is_array()) return nullptr;
    bool met = true;
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& p : probes) {
      met = met && p.value("met", false);
      runs.push_back(ProbeRun(p, activity_of(p), start));
    }
    return {{"steady_state_met", met}, {"probes", runs}};
  };
  const nlohmann::json ss = journal.value("steady_state", nlohmann::json::object());
  nlohmann::json before = ss.contains("before") ? steady(ss["before"]) : nlohmann::json(nullptr);
  nlohmann::json after = ss.contains("after") ? steady(ss["after"]) : nlohmann::json(nullptr);
  // No probes ran before (not asked for): null, as Chaos Toolkit writes a skipped phase.
  if (before.is_object() && before["probes"].empty() && source.ctk &&
      source.ctk->native["settings"].value("steady_state_before", true) == false) {
    before = nullptr;
  }
  nlohmann::json run = nlohmann::json::array();
  for (const auto& entry : journal.value("method", nlohmann::json::array())) {
    if (entry.contains("action")) {
      nlohmann::json item =
          ProbeRun(entry["action"], activity_of(entry["action"]), entry.value("at", start));
      item.erase("tolerance_met");
      item["status"] = entry["action"].value("met", false) ? "succeeded" : "failed";
      run.push_back(item);
    } else if (entry.contains("probe")) {
      run.push_back(
          ProbeRun(entry["probe"], activity_of(entry["probe"]), entry.value("at", start)));
    }
  }
  for (const auto& f : journal.value("faults", nlohmann::json::array())) {
    run.push_back({{"activity", {{"name", f.value("name", "")}, {"type", "action"}}},
                   {"output", f.value("observed", nlohmann::json())},
                   {"status", f.value("revert_ok", false) ? "succeeded" : "failed"},
                   {"start", f.value("injected_at", nlohmann::json())},
                   {"end", f.value("reverted_at", nlohmann::json())}});
  }
  nlohmann::json rollbacks = nlohmann::json::array();
  for (const auto& r : journal.value("rollbacks", nlohmann::json::array())) {
    rollbacks.push_back(
        {{"activity", activity_of(r)},
         {"output", r.contains("action") ? r["action"].value("value", nlohmann::json())
                                         : r.value("exit_code", nlohmann::json())},
         {"status", r.value("ok", false) ? "succeeded" : "failed"},
         {"start", r.value("started_at", start)}});
  }
  const bool deviated = after.is_object() && !after["steady_state_met"].get<bool>();
  std::string ctk_status = "completed";
  if (status == "aborted") {
    ctk_status = "aborted";
  } else if (status == "interrupted") {
    ctk_status = "interrupted";
  } else if (status != "passed") {
    ctk_status = "failed";
  }
  double duration = 0;
  auto t0 = EpochSeconds(start);
  auto t1 = EpochSeconds(end);
  if (t0 && t1) duration = std::round((*t1 - *t0) * 1000) / 1000;
  char host[256] = {0};
  (void)::gethostname(host, sizeof host - 1);
  return {
      {"chaoslib-version", nullptr},
      {"platform", "ringfence " + journal.value("ringfence_version", std::string())},
      {"node", host},
      {"experiment", original},
      {"start", start},
      {"end", end},
      {"duration", duration},
      {"status", ctk_status},
      {"deviated", deviated || (status == "aborted" && journal.contains("abort") &&
                                journal["abort"].is_object() &&
                                journal["abort"].value("guard", "").rfind("hypothesis-", 0) == 0)},
      {"steady_states",
       {{"before", before}, {"after", after}, {"during", nlohmann::json::array()}}},
      {"run", run},
      {"rollbacks", rollbacks},
      {"ringfence",
       {{"run_id", journal.value("run_id", "")},
        {"status", status},
        {"reason", journal.value("reason", "")},
        {"journal_version", journal.value("journal_version", 0)}}}};
}

}  // namespace ringfence
