// The experiment reader: probes, in /steady_state, /method and guard sources
// (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include "core/base/json_path.h"
#include "core/model/experiment.h"

namespace ringfence::internal {

namespace {

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kRegex[] = "an RE2 regular expression";
constexpr char kProbeTypes[] = "one of http, tcp, command, process_alive";
constexpr char kToleranceAllowed[] =
    "a number, a string, [low, high], {\"min\": x, \"max\": y}, {\"regex\": \"…\"} "
    "or {\"one_of\": [values]}";
constexpr char kHttpMethods[] = "one of GET, HEAD, POST, PUT, PATCH, DELETE";
constexpr char kJsonPathAllowed[] = "a JSONPath expression ($.a.b[0], $..name, $.items[*])";

}  // namespace

// One probe object outside a document (a guard's source), against `experiment`'s targets and
// settings.
std::optional<ProbeSpec> ExperimentReader::ReadOneProbe(const ojson& v, const std::string& p,
                                                        const Experiment& experiment) {
  for (const auto& t : experiment.targets) target_names_.push_back(t.name);
  std::optional<ProbeSpec> probe = ReadProbe(v, p, 0);
  if (probe && probes_with_timeout_.count(p) == 0) {
    probe->timeout = experiment.settings.probe_timeout;
  }
  return probe;
}

std::optional<Tolerance> ExperimentReader::ReadTolerance(const ojson& v, const std::string& p) {
  Tolerance t;
  if (v.is_number() || v.is_string()) {
    t.kind = Tolerance::Kind::kExact;
    t.exact = nlohmann::json(v);
    return t;
  }
  if (v.is_array()) {
    if (v.size() != 2 || !v[0].is_number() || !v[1].is_number()) {
      Error(p, v, kToleranceAllowed);
      return std::nullopt;
    }
    if (v[0].get<double>() > v[1].get<double>()) {
      Error(p, v, "a range [low, high] with low at most high");
      return std::nullopt;
    }
    t.kind = Tolerance::Kind::kRange;
    t.min = v[0].get<double>();
    t.max = v[1].get<double>();
    return t;
  }
  if (v.is_object() && v.contains("one_of")) {
    if (v.size() != 1 || !v["one_of"].is_array() || v["one_of"].empty()) {
      Error(v.size() != 1 ? p : Child(p, "one_of"), v.size() != 1 ? v : v["one_of"],
            v.size() != 1 ? kToleranceAllowed : "a non-empty array of values");
      return std::nullopt;
    }
    t.kind = Tolerance::Kind::kOneOf;
    t.one_of = nlohmann::json(v["one_of"]);
    return t;
  }
  if (!v.is_object() || v.empty() || (v.contains("regex") && v.size() > 1)) {
    Error(p, v, kToleranceAllowed);
    return std::nullopt;
  }
  const size_t before = errors_.size();
  auto number = [this](std::optional<double>* into) {
    return [this, into](const ojson& x, const std::string& xp) {
      if (!x.is_number()) return Error(xp, x, "a number");
      *into = x.get<double>();
    };
  };
  ReadObject(v, p,
             {{"min", false, "", number(&t.min)},
              {"max", false, "", number(&t.max)},
              // one_of is read above (alone); listed here so that an unknown key names it.
              {"one_of", false, "", [](const ojson&, const std::string&) {}},
              {"regex", false, "", [&](const ojson& x, const std::string& xp) {
                 if (auto re = RegexValue(x, xp, false, kRegex)) {
                   t.kind = Tolerance::Kind::kRegex;
                   t.regex = *re;
                 }
               }}});
  if (errors_.size() != before) return std::nullopt;
  if (t.kind != Tolerance::Kind::kRegex) {
    t.kind = Tolerance::Kind::kRange;
    if (t.min && t.max && *t.min > *t.max) {
      Error(p, v, "{\"min\": x, \"max\": y} with min at most max");
      return std::nullopt;
    }
  }
  return t;
}

std::optional<JsonPathCheck> ExperimentReader::ReadJsonPathCheck(const ojson& v,
                                                                 const std::string& p) {
  if (!v.is_object()) {
    Error(p, v, "an object {\"path\": \"$…\", \"expect\": value, \"count\": n}");
    return std::nullopt;
  }
  JsonPathCheck check;
  const size_t before = errors_.size();
  ReadObject(v, p,
             {{"path", true, kJsonPathAllowed,
               [&](const ojson& x, const std::string& xp) {
                 if (!x.is_string()) return Error(xp, x, kJsonPathAllowed);
                 Result<JsonPath> path = JsonPath::Parse(x.get<std::string>());
                 if (!path.ok()) {
                   return Error(
                       xp, x, std::string(kJsonPathAllowed) + " (" + path.status().message() + ")");
                 }
                 check.path = x.get<std::string>();
               }},
              {"expect", false, "",
               [&](const ojson& x, const std::string&) { check.expect = nlohmann::json(x); }},
              {"count", false, "", [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 0, 1000000, "an integer from 0 to 1000000")) {
                   check.count = *n;
                 }
               }}});
  if (errors_.size() != before) return std::nullopt;
  if (check.expect && check.count) {
    Error(p, v, "at most one of expect, count");
    return std::nullopt;
  }
  return check;
}

std::optional<ProbeSpec> ExperimentReader::ReadProbe(const ojson& v, const std::string& p,
                                                     size_t index) {
  if (!v.is_object()) {
    Error(p, v, kProbeObject);
    return std::nullopt;
  }
  const auto type_it = v.find("type");
  if (type_it == v.end()) {
    errors_.Add(Child(p, "type"), kFoundMissing, kProbeTypes);
    return std::nullopt;
  }
  static const std::map<std::string, ProbeType> kTypes = {
      {"http", ProbeType::kHttp},
      {"tcp", ProbeType::kTcp},
      {"command", ProbeType::kCommand},
      {"process_alive", ProbeType::kProcessAlive}};
  const auto type = type_it->is_string() ? kTypes.find(type_it->get<std::string>()) : kTypes.end();
  if (type == kTypes.end()) {
    Error(Child(p, "type"), *type_it, kProbeTypes);
    return std::nullopt;
  }
  ProbeSpec probe;
  probe.type = type->second;
  probe.pointer = p;
  probe.name = type->first + "-" + std::to_string(index);
  switch (probe.type) {
    case ProbeType::kHttp:
      probe.tolerance.exact = 200;
      break;
    case ProbeType::kCommand:
      probe.tolerance.exact = 0;
      break;
    case ProbeType::kProcessAlive:
      probe.tolerance.kind = Tolerance::Kind::kRange;
      probe.tolerance.min = 1;
      break;
    case ProbeType::kTcp:
      probe.tolerance.exact = true;
      break;
  }
  auto tolerance = [&](const ojson& x, const std::string& xp) {
    if (auto t = ReadTolerance(x, xp)) probe.tolerance = *t;
  };
  std::vector<Field> fields = {
      {"type", true, "", [](const ojson&, const std::string&) {}},
      {"name", false, "",
       [&](const ojson& x, const std::string& xp) {
         if (auto s = String(x, xp, true, kNonEmptyString)) probe.name = *s;
       }},
  };
  switch (probe.type) {
    case ProbeType::kHttp:
      fields.push_back({"url", true, "a URL starting with http:// or https://",
                        [&](const ojson& x, const std::string& xp) {
                          const bool ok =
                              x.is_string() && (x.get<std::string>().rfind("http://", 0) == 0 ||
                                                x.get<std::string>().rfind("https://", 0) == 0);
                          if (!ok) return Error(xp, x, "a URL starting with http:// or https://");
                          probe.url = x.get<std::string>();
                        }});
      fields.push_back({"method", false, "", [&](const ojson& x, const std::string& xp) {
                          if (x != "GET" && x != "HEAD" && x != "POST" && x != "PUT" &&
                              x != "PATCH" && x != "DELETE") {
                            return Error(xp, x, kHttpMethods);
                          }
                          probe.method = x.get<std::string>();
                        }});
      fields.push_back({"status", false, "", tolerance});
      fields.push_back({"body_regex", false, "", [&](const ojson& x, const std::string& xp) {
                          probe.body_regex = RegexValue(x, xp, false, kRegex);
                        }});
      fields.push_back({"body_jsonpath", false, "", [&](const ojson& x, const std::string& xp) {
                          probe.body_jsonpath = ReadJsonPathCheck(x, xp);
                        }});
      fields.push_back({"headers", false, "", [&](const ojson& x, const std::string& xp) {
                          if (!x.is_object()) return Error(xp, x, "an object of strings");
                          for (const auto& [name, value] : x.items()) {
                            if (name.empty() || name.find_first_of(":\r\n") != std::string::npos) {
                              Error(Child(xp, name), name, "a header name");
                            } else if (!value.is_string() ||
                                       value.get_ref<const std::string&>().find_first_of("\r\n") !=
                                           std::string::npos) {
                              Error(Child(xp, name), value, "a string on one line");
                            } else {
                              probe.headers.emplace_back(name, value.get<std::string>());
                            }
                          }
                        }});
      fields.push_back({"body", false, "", [&](const ojson& x, const std::string& xp) {
                          if (auto s = String(x, xp, false, kAString)) probe.body = *s;
                        }});
      fields.push_back({"content_type", false, "", [&](const ojson& x, const std::string& xp) {
                          if (auto s = String(x, xp, true, kNonEmptyString)) {
                            probe.content_type = *s;
                          }
                        }});
      fields.push_back({"verify_tls", false, "", [&](const ojson& x, const std::string& xp) {
                          if (auto b = Bool(x, xp)) probe.verify_tls = *b;
                        }});
      break;
    case ProbeType::kTcp:
      fields.push_back({"address", false, "", [&](const ojson& x, const std::string& xp) {
                          if (auto s = String(x, xp, true, "a host name or IP address")) {
                            probe.address = *s;
                          }
                        }});
      fields.push_back(
          {"port", true, "an integer from 1 to 65535", [&](const ojson& x, const std::string& xp) {
             if (auto n = Integer(x, xp, 1, 65535, "an integer from 1 to 65535")) {
               probe.port = static_cast<int>(*n);
             }
           }});
      break;
    case ProbeType::kCommand:
      fields.push_back({"argv", true, kArgvAllowed, [&](const ojson& x, const std::string& xp) {
                          if (auto a = Strings(x, xp, kArgvAllowed, true)) probe.argv = *a;
                        }});
      fields.push_back({"exit_code", false, "", tolerance});
      fields.push_back({"stdout_regex", false, "", [&](const ojson& x, const std::string& xp) {
                          probe.stdout_regex = RegexValue(x, xp, false, kRegex);
                        }});
      fields.push_back({"stdout_jsonpath", false, "", [&](const ojson& x, const std::string& xp) {
                          probe.stdout_jsonpath = ReadJsonPathCheck(x, xp);
                        }});
      break;
    case ProbeType::kProcessAlive:
      fields.push_back(
          {"target", true, TargetAllowed(), [&](const ojson& x, const std::string& xp) {
             if (auto t = TargetRef(x, xp)) probe.target = *t;
           }});
      fields.push_back({"count", false, "", tolerance});
      break;
  }
  fields.push_back({"timeout", false, "", [&](const ojson& x, const std::string& xp) {
                      if (auto d = DurationValue(x, xp, true)) {
                        probe.timeout = *d;
                        probes_with_timeout_.insert(p);
                        timeouts_.emplace_back(xp, *d);
                      }
                    }});
  const size_t before = errors_.size();
  ReadObject(v, p, fields);
  if (errors_.size() != before) return std::nullopt;
  return probe;
}

}  // namespace ringfence::internal
