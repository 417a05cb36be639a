#include "core/import/ctk_document.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include <strings.h>

#include "core/base/json_path.h"
#include "core/base/regex.h"
#include "core/base/url_escape.h"

namespace ringfence {

namespace {

using ojson = nlohmann::ordered_json;

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}
std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

// Seconds (a number) as a native duration text ("1500ms", "3s").
std::optional<std::string> SecondsText(const ojson& v) {
  if (!v.is_number()) return std::nullopt;
  const double s = v.get<double>();
  if (!std::isfinite(s) || s < 0 || s > 86400) return std::nullopt;
  const long long ms = std::llround(s * 1000);
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string ScalarText(const ojson& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Hints for Python providers, by module prefix: what ringfence does instead, where it does.
std::string PythonHint(const std::string& module, const std::string& func) {
  struct Hint {
    const char* prefix;
    const char* text;
  };
  static const Hint kHints[] = {
      {"chaosk8s",
       "Kubernetes is not a ringfence target; for a local process use a target "
       "with a process selector and the process_kill fault"},
      {"chaosaws", "cloud APIs are not a ringfence target"},
      {"chaosazure", "cloud APIs are not a ringfence target"},
      {"chaosgcp", "cloud APIs are not a ringfence target"},
      {"chaosprometheus", "a guard with a promql source, or an http probe of the Prometheus API"},
      {"chaostoxi", "the native latency and network_loss faults"},
      {"chaosaddons.utils.idle", "a pause (pauses.after) or a native wait step"},
      {"os.path", "a process probe running test -e PATH"},
      {"chaoslib", "no native equivalent"},
  };
  for (const auto& h : kHints) {
    if (module.rfind(h.prefix, 0) == 0) return h.text;
  }
  (void)func;
  return "";
}

// stress-ng's time ("30", "30s", "2m", "1h", "1d") as a native duration; nullopt when not one
// or not above 0.
std::optional<std::string> StressNgDuration(const std::string& s) {
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits > 6 || s.size() > digits + 1) return std::nullopt;
  long long n = std::stoll(s.substr(0, digits));
  const char unit = s.size() > digits ? s[digits] : 's';
  if (n <= 0) return std::nullopt;
  switch (unit) {
    case 's':
      return std::to_string(n) + "s";
    case 'm':
      return std::to_string(n) + "m";
    case 'h':
      return std::to_string(n) + "h";
    case 'd':
      return std::to_string(n * 24) + "h";
    default:
      return std::nullopt;
  }
}

// stress-ng's size ("512m", "1g", "65536", "4k"; powers of 1024) in bytes; nullopt when not one.
std::optional<uint64_t> StressNgBytes(const std::string& s) {
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits > 12 || s.size() > digits + 1) return std::nullopt;
  uint64_t n = std::stoull(s.substr(0, digits));
  const char unit = s.size() > digits ? static_cast<char>(std::tolower(s[digits])) : 'b';
  const int shift = unit == 'b' ? 0 : unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : -1;
  if (shift < 0 || n == 0) return std::nullopt;
  return n << shift;
}

// `stress-ng --cpu N [--cpu-load P] --timeout T` → cpu_stress; `stress-ng --vm 1 [--vm-bytes S]
// --vm-keep --timeout T` → memory_stress (without --vm-keep stress-ng unmaps and maps its memory
// again each round, which memory_stress does not). Only these options (and --quiet,
// --metrics-brief); anything else leaves the command as it is. `why_not` says why a stress-ng
// command that nearly maps does not.
std::optional<ojson> StressNgFault(const std::vector<std::string>& argv, std::string& why_not) {
  std::map<std::string, std::string> opt;
  bool vm_keep = false;
  static const std::map<std::string, std::string> kValued = {
      {"--cpu", "cpu"}, {"-c", "cpu"}, {"--cpu-load", "cpu-load"}, {"-l", "cpu-load"},
      {"--vm", "vm"},   {"-m", "vm"},  {"--vm-bytes", "vm-bytes"}, {"--timeout", "timeout"},
      {"-t", "timeout"}};
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string a = argv[i], value;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    if (a == "--vm-keep") {
      vm_keep = true;
    } else if (a == "-q" || a == "--quiet" || a == "--metrics-brief") {
    } else if (auto it = kValued.find(a); it != kValued.end()) {
      if (value.empty()) {
        if (i + 1 >= argv.size()) return std::nullopt;
        value = argv[++i];
      }
      if (opt.count(it->second)) return std::nullopt;
      opt[it->second] = value;
    } else {
      return std::nullopt;
    }
  }
  auto whole = [](const std::string& s, long long low, long long high) -> std::optional<long long> {
    if (s.empty() || s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    const long long n = std::stoll(s);
    if (n < low || n > high) return std::nullopt;
    return n;
  };
  if (!opt.count("timeout")) {
    why_not = "without --timeout stress-ng runs until it is killed";
    return std::nullopt;
  }
  const auto duration = StressNgDuration(opt["timeout"]);
  if (!duration) return std::nullopt;
  const bool cpu = opt.count("cpu") > 0, vm = opt.count("vm") > 0;
  if (cpu == vm) return std::nullopt;  // neither, or both at once (two faults, not one)
  if (cpu) {
    if (opt.count("vm-bytes")) return std::nullopt;
    const auto workers = whole(opt["cpu"], 0, 1024);
    if (!workers) return std::nullopt;
    ojson params = ojson::object();
    if (*workers > 0) params["workers"] = *workers;  // 0: one per CPU, cpu_stress's default
    if (opt.count("cpu-load")) {
      const auto load = whole(opt["cpu-load"], 1, 100);
      if (!load) return std::nullopt;
      params["load"] = *load;
    }
    return ojson{{"type", "cpu_stress"}, {"params", params}, {"duration", *duration}};
  }
  if (opt.count("cpu-load") || whole(opt["vm"], 1, 1) == std::nullopt) return std::nullopt;
  const auto bytes = StressNgBytes(opt.count("vm-bytes") ? opt["vm-bytes"] : "256m");
  if (!bytes || *bytes < 4096) return std::nullopt;
  if (!vm_keep) {
    why_not = "without --vm-keep stress-ng unmaps and maps its memory again each round";
    return std::nullopt;
  }
  return ojson{{"type", "memory_stress"}, {"params", {{"size", *bytes}}}, {"duration", *duration}};
}

// `tc qdisc add dev IF root netem delay D [J]` (D and J written like "100ms" or "1s") →
// the latency fault's netem backend on IF; nullopt for any other tc command.
std::optional<ojson> TcNetemFault(const std::vector<std::string>& argv) {
  const std::vector<std::string> head = {"qdisc", "add", "dev"};
  if (argv.size() < 9 || argv.size() > 10) return std::nullopt;
  for (size_t i = 0; i < head.size(); ++i) {
    if (argv[i + 1] != head[i]) return std::nullopt;
  }
  const std::string& interface = argv[4];
  if (argv[5] != "root" || argv[6] != "netem" || argv[7] != "delay") return std::nullopt;
  auto ms = [](const std::string& s) -> std::optional<std::string> {
    auto d = ParseDuration(s);
    if (!d.ok() || d->count() < 0 || d->count() > 60000) return std::nullopt;
    return std::to_string(d->count()) + "ms";
  };
  const auto delay = ms(argv[8]);
  if (!delay || interface.empty() || interface.size() > 15) return std::nullopt;
  ojson params = {{"backend", "netem"}, {"interface", interface}, {"delay", *delay}};
  if (argv.size() == 10) {
    const auto jitter = ms(argv[9]);
    if (!jitter) return std::nullopt;
    params["jitter"] = *jitter;
  }
  return ojson{{"type", "latency"}, {"params", params}, {"duration", "?"}};
}

// `tc qdisc del dev IF root`: the interface, or "" for any other command.
std::string TcNetemRemoval(const std::vector<std::string>& argv) {
  if (argv.size() == 6 && argv[1] == "qdisc" && argv[2] == "del" && argv[3] == "dev" &&
      argv[5] == "root") {
    return argv[4];
  }
  return "";
}

class Converter {
 public:
  Converter(const CtkOptions& options, ValidationErrors& errors)
      : options_(options), errors_(errors) {}

  std::optional<CtkConversion> Run(const ojson& doc);

 private:
  void Error(const std::string& pointer, const std::string& found, const std::string& allowed) {
    errors_.Add(pointer, found, allowed);
  }
  void Note(const std::string& pointer, const std::string& text) {
    out_.notes.push_back((pointer.empty() ? "/" : pointer) + ": " + text);
  }
  std::optional<std::string> Env(const std::string& key) {
    if (options_.env) return options_.env(key);
    if (const char* v = std::getenv(key.c_str())) return std::string(v);
    return std::nullopt;
  }

  void ReadConfiguration(const ojson& v, const std::string& p);
  void ReadSecrets(const ojson& v, const std::string& p);
  ojson Substitute(const ojson& v, const std::string& p);
  std::optional<ojson> Probe(const ojson& activity, const std::string& p, bool in_hypothesis,
                             std::vector<ojson>* extra_probes);
  bool Tolerance(const ojson& t, const std::string& p, const std::string& provider, ojson& probe,
                 std::vector<ojson>* extra_probes);
  std::optional<ojson> Provider(const ojson& provider, const std::string& p,
                                const std::string& activity_type);
  std::optional<ojson> MapToFault(const ojson& activity, const std::vector<std::string>& argv,
                                  const std::string& p);
  const ojson* Resolve(const ojson& entry, const std::string& p);
  void Method(const ojson& v, const std::string& p);
  void Rollbacks(const ojson& v, const std::string& p);
  void Runtime(const ojson& v, const std::string& p);

  const CtkOptions& options_;
  ValidationErrors& errors_;
  CtkConversion out_;
  std::map<std::string, std::string> values_;  // configuration and secrets by name, filled
  std::set<std::string> secret_names_;
  std::map<std::string, ojson> by_name_;    // activities by name, for refs
  std::map<std::string, ojson> targets_;    // convert: targets of mapped faults
  std::set<std::string> netem_interfaces_;  // convert: interfaces of mapped tc netem faults
  std::string rollback_strategy_ = "default";
  std::string hypothesis_strategy_ = "default";
  Duration frequency_ = std::chrono::seconds(1);
  bool fail_fast_ = false;
};

void Converter::ReadConfiguration(const ojson& v, const std::string& p) {
  if (!v.is_object()) return Error(p, FoundValue(v), "an object of configuration entries");
  for (const auto& [name, entry] : v.items()) {
    const std::string ep = Child(p, name);
    if (auto it = options_.vars.find(name); it != options_.vars.end()) {
      values_[name] = it->second;  // --var wins
      continue;
    }
    if (entry.is_string() || entry.is_number() || entry.is_boolean()) {
      values_[name] = ScalarText(entry);
      continue;
    }
    if (entry.is_object() && entry.value("type", "") == "env") {
      for (const auto& [k, x] : entry.items()) {
        if (k != "type" && k != "key" && k != "default" && k != "env_var_type") {
          Error(Child(ep, k), kFoundUnknownKey, "one of type, key, default, env_var_type");
        }
      }
      if (!entry.contains("key") || !entry["key"].is_string() ||
          entry["key"].get<std::string>().empty()) {
        Error(Child(ep, "key"), entry.contains("key") ? FoundValue(entry["key"]) : kFoundMissing,
              "the name of an environment variable");
        continue;
      }
      if (auto value = Env(entry["key"].get<std::string>())) {
        values_[name] = *value;
      } else if (entry.contains("default")) {
        values_[name] = ScalarText(entry["default"]);
      } else {
        Error(ep, "environment variable " + entry["key"].get<std::string>() + " is not set",
              "a set variable, a \"default\", or --var " + name + "=VALUE");
      }
      continue;
    }
    Error(ep, FoundValue(entry),
          "a string, a number, a boolean or {\"type\": \"env\", \"key\": NAME, \"default\": "
          "VALUE}");
  }
}

void Converter::ReadSecrets(const ojson& v, const std::string& p) {
  if (!v.is_object()) return Error(p, FoundValue(v), "an object of secret scopes");
  for (const auto& [scope, entries] : v.items()) {
    const std::string sp = Child(p, scope);
    if (!entries.is_object()) {
      Error(sp, FoundValue(entries), "an object of secrets");
      continue;
    }
    for (const auto& [name, entry] : entries.items()) {
      const std::string ep = Child(sp, name);
      secret_names_.insert(name);
      std::optional<std::string> value;
      std::string env_key;
      if (auto it = options_.vars.find(name); it != options_.vars.end()) {
        value = it->second;
      } else if (entry.is_string() || entry.is_number()) {
        value = ScalarText(entry);
      } else if (entry.is_object() && entry.value("type", "") == "env" && entry.contains("key") &&
                 entry["key"].is_string()) {
        env_key = entry["key"].get<std::string>();
        value = Env(env_key);
        if (!value && entry.contains("default")) value = ScalarText(entry["default"]);
        if (!value && !options_.for_convert) {
          Error(ep, "environment variable " + env_key + " is not set",
                "a set variable, a \"default\", or --secret " + name + "=VALUE");
          continue;
        }
      } else {
        // The value is a secret: never repeated in an error.
        Error(ep, entry.is_object() ? "an object" : "a value",
              "a string or {\"type\": \"env\", \"key\": NAME, \"default\": VALUE}");
        continue;
      }
      if (options_.for_convert) {
        // A converted file never holds a secret: a native placeholder takes its place.
        const std::string placeholder = env_key.empty() ? name : env_key;
        values_[name] = "${" + placeholder + "}";
        Note(ep, "secret written as ${" + placeholder + "}: pass it with --secret " + placeholder +
                     "=VALUE when you run the converted file");
      } else {
        values_[name] = *value;
        out_.secrets.emplace_back(name, *value);
      }
    }
  }
}

// Chaos Toolkit's substitution (Python's Template.safe_substitute): `${name}` and `$name` take
// the value of the configuration or secret entry `name`; `$$` is a `$`; anything else stays as
// it is (a shell's `${HOME}` in a command line, say). The result is literal text for the native
// loader, whose own `${` is escaped as `$${` — except, for_convert, the placeholders that stand
// for secrets. A string that is exactly one placeholder of a number or boolean becomes that.
ojson Converter::Substitute(const ojson& v, const std::string& p) {
  if (v.is_object()) {
    ojson out = ojson::object();
    for (const auto& [k, x] : v.items()) out[k] = Substitute(x, Child(p, k));
    return out;
  }
  if (v.is_array()) {
    ojson out = ojson::array();
    for (size_t i = 0; i < v.size(); ++i) out.push_back(Substitute(v[i], Child(p, i)));
    return out;
  }
  if (!v.is_string()) return v;
  const std::string& text = v.get_ref<const std::string&>();
  auto is_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  // Pieces of literal text and native placeholders (for_convert secrets), in order.
  std::string out;
  std::vector<std::pair<size_t, std::string>> placeholders;  // position in `out`, text
  size_t filled = 0;
  std::optional<std::string> only_value;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    size_t name_start = i + 1, name_end = i + 1;
    const bool braced = text[i + 1] == '{';
    if (braced) ++name_start;
    name_end = name_start;
    if (name_end < text.size() && is_start(text[name_end])) {
      while (name_end < text.size() && is_name(text[name_end])) ++name_end;
    }
    const bool closed = !braced || (name_end < text.size() && text[name_end] == '}');
    const std::string name = text.substr(name_start, name_end - name_start);
    auto it = name.empty() || !closed ? values_.end() : values_.find(name);
    if (it == values_.end()) {
      out += text[i];  // not a known placeholder: left as it is
      continue;
    }
    const size_t end = braced ? name_end + 1 : name_end;
    if (i == 0 && end == text.size()) only_value = it->second;
    if (options_.for_convert && secret_names_.count(name)) {
      placeholders.emplace_back(out.size(), it->second);
    } else {
      out += it->second;
    }
    ++filled;
    i = end - 1;
  }
  if (only_value && !(options_.for_convert && placeholders.size() == 1)) {
    ojson typed = ojson::parse(*only_value, nullptr, false);
    if (typed.is_number() || typed.is_boolean()) return typed;
  }
  // Escape the literal text for the native loader, then put the secret placeholders back.
  std::string native;
  size_t next = 0;
  for (size_t i = 0; i <= out.size(); ++i) {
    while (next < placeholders.size() && placeholders[next].first == i) {
      native += placeholders[next++].second;
    }
    if (i == out.size()) break;
    if (out.compare(i, 2, "${") == 0) native += '$';
    native += out[i];
  }
  (void)filled;
  (void)p;
  return native;
}

// The native probe object for a provider (process → command, http → http), without tolerance.
std::optional<ojson> Converter::Provider(const ojson& provider, const std::string& p,
                                         const std::string& activity_type) {
  if (!provider.is_object()) {
    Error(p, FoundValue(provider), "a provider object");
    return std::nullopt;
  }
  const std::string type = provider.value("type", "");
  if (type == "python") {
    const std::string module = provider.value("module", "?");
    const std::string func = provider.value("func", "?");
    const std::string hint = PythonHint(module, func);
    Error(p,
          "python provider " + module + "." + func + " (module " + module + ", function " + func +
              ")",
          "a process or http provider: ringfence runs no Python and no Chaos Toolkit "
          "extension" +
              (hint.empty() ? std::string() : "; instead: " + hint));
    return std::nullopt;
  }
  ojson probe = ojson::object();
  const size_t before = errors_.size();
  if (type == "process") {
    std::vector<std::string> argv;
    for (const auto& [k, x] : provider.items()) {
      if (k != "type" && k != "path" && k != "arguments" && k != "timeout" && k != "secrets") {
        Error(Child(p, k), kFoundUnknownKey, "one of type, path, arguments, timeout, secrets");
      }
    }
    if (!provider.contains("path") || !provider["path"].is_string() ||
        provider["path"].get<std::string>().empty()) {
      Error(Child(p, "path"),
            provider.contains("path") ? FoundValue(provider["path"]) : kFoundMissing,
            "a program name or path");
    } else {
      argv.push_back(provider["path"].get<std::string>());
    }
    if (provider.contains("arguments")) {
      const ojson& a = provider["arguments"];
      const std::string ap = Child(p, "arguments");
      if (a.is_string()) {
        auto words = SplitShellWords(a.get<std::string>());
        if (!words) {
          Error(ap, FoundValue(a), "a command line without an unterminated quote");
        } else {
          argv.insert(argv.end(), words->begin(), words->end());
        }
      } else if (a.is_array()) {
        for (size_t i = 0; i < a.size(); ++i) {
          if (a[i].is_string() || a[i].is_number() || a[i].is_boolean()) {
            argv.push_back(ScalarText(a[i]));
          } else {
            Error(Child(ap, i), FoundValue(a[i]), "a string or a number");
          }
        }
      } else if (!a.is_null()) {
        Error(ap, FoundValue(a), "a string or an array of strings");
      }
    }
    probe["type"] = "command";
    probe["argv"] = argv;
    if (activity_type == "action") probe["exit_code"] = 0;
  } else if (type == "http") {
    for (const auto& [k, x] : provider.items()) {
      if (k != "type" && k != "url" && k != "method" && k != "headers" && k != "arguments" &&
          k != "timeout" && k != "expected_status" && k != "verify_tls" && k != "secrets") {
        Error(Child(p, k), kFoundUnknownKey,
              "one of type, url, method, headers, arguments, timeout, expected_status, "
              "verify_tls, secrets");
      }
    }
    if (!provider.contains("url") || !provider["url"].is_string()) {
      Error(Child(p, "url"), provider.contains("url") ? FoundValue(provider["url"]) : kFoundMissing,
            "a URL starting with http:// or https://");
      return std::nullopt;
    }
    std::string url = provider["url"].get<std::string>();
    std::string method = provider.value("method", "GET");
    probe["type"] = "http";
    probe["method"] = method;
    bool json_body = false;
    if (provider.contains("headers")) {
      const ojson& h = provider["headers"];
      if (!h.is_object()) {
        Error(Child(p, "headers"), FoundValue(h), "an object of strings");
      } else {
        probe["headers"] = h;
        for (const auto& [name, value] : h.items()) {
          if (value.is_string() && strcasecmp(name.c_str(), "Content-Type") == 0 &&
              value.get<std::string>().find("json") != std::string::npos) {
            json_body = true;
          }
        }
      }
    }
    if (provider.contains("arguments") && !provider["arguments"].is_null()) {
      const ojson& a = provider["arguments"];
      if (!a.is_object()) {
        Error(Child(p, "arguments"), FoundValue(a), "an object");
      } else if (method == "GET" || method == "HEAD" || method == "DELETE") {
        std::string query;
        for (const auto& [k, x] : a.items()) {
          query +=
              (query.empty() ? "" : "&") + UrlQueryEscape(k) + "=" + UrlQueryEscape(ScalarText(x));
        }
        if (!query.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + query;
      } else if (json_body) {
        probe["body"] = a.dump();
        probe["content_type"] = "application/json";
      } else {
        std::string form;
        for (const auto& [k, x] : a.items()) {
          form +=
              (form.empty() ? "" : "&") + UrlQueryEscape(k) + "=" + UrlQueryEscape(ScalarText(x));
        }
        probe["body"] = form;
        probe["content_type"] = "application/x-www-form-urlencoded";
      }
    }
    probe["url"] = url;
    if (provider.contains("verify_tls")) probe["verify_tls"] = provider["verify_tls"];
    if (provider.contains("expected_status")) {
      if (!provider["expected_status"].is_number_integer()) {
        Error(Child(p, "expected_status"), FoundValue(provider["expected_status"]),
              "an HTTP status code");
      } else if (activity_type == "action") {
        probe["status"] = provider["expected_status"];
      }
    } else if (activity_type == "action") {
      probe["status"] = ojson::array({100, 599});  // any response: the request was made
    }
  } else {
    Error(Child(p, "type"),
          provider.contains("type") ? FoundValue(provider["type"]) : kFoundMissing,
          "one of process, http (python: not supported)");
    return std::nullopt;
  }
  if (provider.contains("timeout")) {
    const ojson& t = provider["timeout"];
    // http's (connect, read) pair: the whole exchange may take both.
    ojson seconds = t;
    if (t.is_array() && t.size() == 2 && t[0].is_number() && t[1].is_number()) {
      seconds = t[0].get<double>() + t[1].get<double>();
    }
    if (auto text = SecondsText(seconds); text && seconds.get<double>() > 0) {
      probe["timeout"] = *text;
    } else {
      Error(Child(p, "timeout"), FoundValue(t),
            "a number of seconds greater than 0 and at most 86400 (http: or [connect, read])");
    }
  }
  if (errors_.size() != before) return std::nullopt;
  return probe;
}

// Sets the probe's tolerance keys from a Chaos Toolkit tolerance.
bool Converter::Tolerance(const ojson& t, const std::string& p, const std::string& provider,
                          ojson& probe, std::vector<ojson>* extra_probes) {
  const bool http = provider == "http";
  const char* value_key = http ? "status" : "exit_code";
  const char* text_regex = http ? "body_regex" : "stdout_regex";
  const char* text_jsonpath = http ? "body_jsonpath" : "stdout_jsonpath";
  const std::string text_target = http ? "body" : "stdout";
  if (t.is_boolean()) {
    // true: the provider succeeded (exit code 0, an HTTP status below 400); false: it did not.
    if (http) {
      probe[value_key] = t.get<bool>() ? ojson::array({100, 399}) : ojson({{"min", 400}});
    } else {
      probe[value_key] = t.get<bool>() ? ojson(0) : ojson({{"min", 1}});
    }
    return true;
  }
  if (t.is_number_integer()) {
    probe[value_key] = t;
    return true;
  }
  if (t.is_string()) {
    const std::string s = t.get<std::string>();
    if (s.find("\\E") != std::string::npos) {
      Error(p, FoundValue(t), "a string without \\E");
      return false;
    }
    probe[text_regex] = "^\\Q" + s + "\\E\\n?$";
    return true;
  }
  if (t.is_array()) {
    if (t.empty()) {
      Error(p, FoundValue(t), "a non-empty list");
      return false;
    }
    if (t.size() == 2 && t[0].is_number() && t[1].is_number()) {
      probe[value_key] = t;  // [low, high]
      return true;
    }
    probe[value_key] = ojson({{"one_of", t}});
    return true;
  }
  if (!t.is_object()) {
    Error(p, FoundValue(t),
          "a boolean, an integer, a string, a list, or an object with type regex, jsonpath, "
          "range or probe");
    return false;
  }
  const std::string type = t.value("type", "");
  const std::string target = t.value("target", "");
  auto check_keys = [&](std::initializer_list<const char*> keys) {
    for (const auto& [k, x] : t.items()) {
      bool known = false;
      std::string list;
      for (const char* key : keys) {
        known = known || k == key;
        list += (list.empty() ? "" : ", ") + std::string(key);
      }
      if (!known) Error(Child(p, k), kFoundUnknownKey, "one of " + list);
    }
  };
  if (type == "regex") {
    check_keys({"type", "pattern", "target"});
    if (!t.contains("pattern") || !t["pattern"].is_string()) {
      Error(Child(p, "pattern"), t.contains("pattern") ? FoundValue(t["pattern"]) : kFoundMissing,
            "an RE2 regular expression");
      return false;
    }
    if (Regex re(t["pattern"].get<std::string>()); !re.ok()) {
      Error(Child(p, "pattern"), FoundValue(t["pattern"]),
            "an RE2 regular expression (" + re.error() + ")");
      return false;
    }
    if (target.empty() || target == text_target) {
      probe[text_regex] = t["pattern"];
    } else if (target == "status") {
      probe[value_key] = ojson({{"regex", t["pattern"]}});
    } else {
      Error(Child(p, "target"), FoundValue(t["target"]),
            http ? "body or status" : "stdout or status (stderr is not captured)");
      return false;
    }
    return true;
  }
  if (type == "jsonpath") {
    check_keys({"type", "path", "expect", "count", "target"});
    if (!target.empty() && target != text_target) {
      Error(Child(p, "target"), FoundValue(t["target"]), text_target);
      return false;
    }
    const ojson path = t.value("path", ojson());
    Result<JsonPath> parsed = path.is_string() ? JsonPath::Parse(path.get<std::string>())
                                               : Result<JsonPath>(Status::InvalidInput("missing"));
    if (!parsed.ok()) {
      Error(Child(p, "path"), path.is_null() ? std::string(kFoundMissing) : FoundValue(path),
            "a JSONPath expression ($.a.b[0], $..name, $.items[*])" +
                (path.is_string() ? " (" + parsed.status().message() + ")" : std::string()));
      return false;
    }
    ojson check = {{"path", path}};
    if (t.contains("expect")) check["expect"] = t["expect"];
    if (t.contains("count")) check["count"] = t["count"];
    probe[text_jsonpath] = check;
    return true;
  }
  if (type == "range") {
    check_keys({"type", "range", "target"});
    const ojson r = t.value("range", ojson());
    if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number()) {
      Error(Child(p, "range"), t.contains("range") ? FoundValue(r) : kFoundMissing,
            "[low, high], two numbers");
      return false;
    }
    if (!target.empty() && target != "status") {
      Error(Child(p, "target"), FoundValue(t["target"]), "status (the exit code or HTTP status)");
      return false;
    }
    probe[value_key] = r;
    return true;
  }
  if (type == "probe") {
    // The tolerance probe runs as a probe of its own right after, and must succeed; it is not
    // given the value (Chaos Toolkit passes it to a Python function as `value`).
    if (extra_probes == nullptr) {
      Error(p, FoundValue(t), "a probe tolerance only in the steady-state hypothesis");
      return false;
    }
    auto native = Provider(t.value("provider", ojson()), Child(p, "provider"), "probe");
    if (!native) return false;
    (*native)["name"] = t.value("name", "tolerance");
    if ((*native)["type"] == "http") (*native)["status"] = ojson::array({200, 399});
    extra_probes->push_back(*native);
    Note(p,
         "probe tolerance runs as a probe of its own that must succeed; it is not given the "
         "value");
    return true;
  }
  Error(Child(p, "type"), t.contains("type") ? FoundValue(t["type"]) : kFoundMissing,
        "one of regex, jsonpath, range, probe");
  return false;
}

const ojson* Converter::Resolve(const ojson& entry, const std::string& p) {
  if (entry.is_object() && entry.contains("ref")) {
    if (entry.size() != 1 || !entry["ref"].is_string()) {
      Error(p, FoundValue(entry), "{\"ref\": NAME} alone");
      return nullptr;
    }
    auto it = by_name_.find(entry["ref"].get<std::string>());
    if (it == by_name_.end()) {
      std::string names;
      for (const auto& [n, a] : by_name_) names += (names.empty() ? "" : ", ") + n;
      Error(Child(p, "ref"), FoundValue(entry["ref"]),
            "the name of an earlier activity (" + (names.empty() ? "none" : names) + ")");
      return nullptr;
    }
    return &it->second;
  }
  if (!entry.is_object()) {
    Error(p, FoundValue(entry), "an activity object or {\"ref\": NAME}");
    return nullptr;
  }
  return &entry;
}

// A probe or action (steady state: a native probe with its tolerance).
std::optional<ojson> Converter::Probe(const ojson& activity, const std::string& p,
                                      bool in_hypothesis, std::vector<ojson>* extra_probes) {
  static const std::set<std::string> kKeys = {"type",      "name",    "provider",
                                              "tolerance", "pauses",  "background",
                                              "controls",  "secrets", "configuration"};
  for (const auto& [k, x] : activity.items()) {
    if (kKeys.count(k) == 0) {
      Error(Child(p, k), kFoundUnknownKey,
            "one of type, name, provider, tolerance, pauses, background, secrets, configuration");
    }
  }
  if (activity.contains("controls")) {
    Error(Child(p, "controls"), FoundValue(activity["controls"]),
          "no controls: they are Python modules, which ringfence does not run");
    return std::nullopt;
  }
  const std::string type = activity.value("type", "");
  if (type != "probe" && type != "action") {
    Error(Child(p, "type"),
          activity.contains("type") ? FoundValue(activity["type"]) : kFoundMissing,
          in_hypothesis ? "probe" : "one of action, probe");
    return std::nullopt;
  }
  if (!activity.contains("name") || !activity["name"].is_string() ||
      activity["name"].get<std::string>().empty()) {
    Error(Child(p, "name"),
          activity.contains("name") ? FoundValue(activity["name"]) : kFoundMissing,
          "a non-empty string");
    return std::nullopt;
  }
  if (!activity.contains("provider")) {
    Error(Child(p, "provider"), kFoundMissing, "a provider object");
    return std::nullopt;
  }
  auto probe =
      Provider(activity["provider"], Child(p, "provider"), in_hypothesis ? "probe" : "action");
  if (!probe) return std::nullopt;
  ojson named = {{"name", activity["name"]}};
  named.update(*probe);
  if (in_hypothesis) {
    if (!activity.contains("tolerance")) {
      Error(Child(p, "tolerance"), kFoundMissing,
            "a tolerance (a probe of the hypothesis needs one)");
      return std::nullopt;
    }
    if (!Tolerance(activity["tolerance"], Child(p, "tolerance"),
                   (*probe)["type"] == "http" ? "http" : "process", named, extra_probes)) {
      return std::nullopt;
    }
  }
  return named;
}

// A process action running kill / pkill / killall / stress-ng / tc with arguments whose meaning is
// exactly a native fault's: that fault step (and its target); nullopt otherwise.
std::optional<ojson> Converter::MapToFault(const ojson& activity,
                                           const std::vector<std::string>& argv,
                                           const std::string& p) {
  if (argv.empty()) return std::nullopt;
  const std::string program = argv[0].substr(argv[0].rfind('/') + 1);
  const std::string name = activity.value("name", "fault");
  auto signal_of = [](std::string s) -> std::optional<std::string> {
    static const std::map<std::string, std::string> kNumbers = {
        {"1", "SIGHUP"},   {"2", "SIGINT"},   {"3", "SIGQUIT"},  {"9", "SIGKILL"},
        {"10", "SIGUSR1"}, {"12", "SIGUSR2"}, {"15", "SIGTERM"}, {"19", "SIGSTOP"}};
    if (auto it = kNumbers.find(s); it != kNumbers.end()) s = it->second;
    if (s.rfind("SIG", 0) != 0) s = "SIG" + s;
    static const std::set<std::string> kKill = {"SIGKILL", "SIGTERM", "SIGINT",  "SIGHUP",
                                                "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGSTOP"};
    if (kKill.count(s)) return s;
    return std::nullopt;
  };
  auto fault = [&](const std::string& signal, const ojson& process) -> ojson {
    const std::string target = "ctk-" + name;
    targets_[target] = {{"process", process}};
    if (signal == "SIGSTOP") {
      return {{"type", "process_pause"}, {"name", name}, {"target", target}, {"duration", "?"}};
    }
    return {{"type", "process_kill"},
            {"name", name},
            {"target", target},
            {"params", {{"signal", signal}}},
            {"duration", "1s"}};
  };
  std::string signal = "SIGTERM";
  size_t i = 1;
  if (program == "kill") {
    if (i < argv.size() && argv[i] == "-s" && i + 1 < argv.size()) {
      auto s = signal_of(argv[i + 1]);
      if (!s) return std::nullopt;
      signal = *s;
      i += 2;
    } else if (i < argv.size() && argv[i].size() > 1 && argv[i][0] == '-') {
      auto s = signal_of(argv[i].substr(1));
      if (!s) return std::nullopt;
      signal = *s;
      ++i;
    }
    if (i + 1 != argv.size()) return std::nullopt;
    const std::string& pid = argv[i];
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) {
      return std::nullopt;
    }
    return fault(signal, {{"pid", std::atoi(pid.c_str())}});
  }
  if (program == "pkill" || program == "killall") {
    bool full = false, exact = program == "killall";
    std::string pattern;
    for (; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "-f") {
        full = true;
      } else if (a == "-x" || a == "--exact") {
        exact = true;
      } else if (a.size() > 1 && a[0] == '-') {
        auto s = signal_of(a.substr(1));
        if (!s) return std::nullopt;
        signal = *s;
      } else if (pattern.empty()) {
        pattern = a;
      } else {
        return std::nullopt;
      }
    }
    if (pattern.empty()) return std::nullopt;
    if (full && program == "pkill" && !exact) return fault(signal, {{"cmdline", pattern}});
    if (!full && exact && pattern.find_first_of(".*+?[](){}|^$\\") == std::string::npos) {
      return fault(signal, {{"name", pattern}});
    }
    return std::nullopt;
  }
  if (program == "stress-ng") {
    std::string why_not;
    std::optional<ojson> mapped = StressNgFault(argv, why_not);
    if (!mapped) {
      if (!why_not.empty()) Note(p, "stress-ng stays a command: " + why_not);
      return std::nullopt;
    }
    (*mapped)["name"] = name;
    return mapped;
  }
  if (program == "tc") {
    std::optional<ojson> mapped = TcNetemFault(argv);
    if (mapped) (*mapped)["name"] = name;
    return mapped;
  }
  return std::nullopt;
}

void Converter::Method(const ojson& v, const std::string& p) {
  if (!v.is_array()) return Error(p, FoundValue(v), "an array of activities");
  ojson& method = out_.native["method"];
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string ap = Child(p, i);
    const ojson* activity = Resolve(v[i], ap);
    if (activity == nullptr) continue;
    const size_t before = errors_.size();
    ojson pauses = activity->value("pauses", ojson::object());
    auto pause = [&](const char* when) {
      if (!pauses.is_object() || !pauses.contains(when)) return;
      auto text = SecondsText(pauses[when]);
      if (!text) {
        Error(Child(Child(ap, "pauses"), when), FoundValue(pauses[when]),
              "a number of seconds from 0 to 86400");
        return;
      }
      method.push_back({{"type", "wait"}, {"duration", *text}});
      out_.method_origin.push_back(-1);
    };
    pause("before");
    auto probe = Probe(*activity, ap, false, nullptr);
    if (!probe) {
      pause("after");  // its errors too
      continue;
    }
    const bool background = activity->value("background", false);
    std::optional<ojson> mapped;
    ojson blocking_wait;  // a wait step after the mapped fault, when the command blocked
    if (options_.for_convert && (*probe)["type"] == "command" && !background) {
      mapped = MapToFault(*activity, (*probe)["argv"].get<std::vector<std::string>>(), ap);
      const std::string type = mapped ? (*mapped)["type"].get<std::string>() : "";
      if (type == "process_pause" || type == "latency") {
        // A stopped process or a netem qdisc lasts as long as the action's pauses.after;
        // without one it is not exact.
        if (auto after = pauses.is_object() && pauses.contains("after")
                             ? SecondsText(pauses["after"])
                             : std::nullopt;
            after && *after != "0s") {
          (*mapped)["duration"] = *after;
          pauses.erase("after");  // the fault's window is the pause
          if (type == "latency") {
            netem_interfaces_.insert((*mapped)["params"]["interface"].get<std::string>());
          }
        } else {
          if (mapped->contains("target")) targets_.erase((*mapped)["target"].get<std::string>());
          mapped.reset();
          Note(ap, type == "latency"
                       ? "tc netem stays a command: with a pauses.after it would become the "
                         "latency fault's netem backend (reverted crash-safely)"
                       : "kill -STOP stays a command: with a pauses.after it would become the "
                         "process_pause fault (reverted crash-safely)");
        }
      }
    }
    if (errors_.size() != before) continue;
    if (mapped) {
      const std::string type = (*mapped)["type"].get<std::string>();
      method.push_back(*mapped);
      Note(ap, "mapped to the native " + type + " fault" +
                   (type == "process_pause"
                        ? std::string(", which ends before the hypothesis after (run as it "
                                      "is, the process is still stopped then)")
                    : type == "latency"
                        ? std::string(", which ends before the hypothesis after (run as it "
                                      "is, the qdisc stays until the rollbacks)")
                        : std::string()));
      if (type == "cpu_stress" || type == "memory_stress") {
        // stress-ng blocks for its --timeout; the native fault does not: wait as long.
        blocking_wait = (*mapped)["duration"];
      }
    } else {
      ojson step = {{"type", "action"}, {"action", *probe}};
      if (background) step["background"] = true;
      method.push_back(step);
    }
    out_.method_origin.push_back(static_cast<int>(out_.activities.size()));
    if (!blocking_wait.is_null()) {
      method.push_back({{"type", "wait"}, {"duration", blocking_wait}});
      out_.method_origin.push_back(-1);
    }
    out_.activities.push_back(*activity);
    if (activity->contains("name") && (*activity)["name"].is_string()) {
      by_name_[(*activity)["name"].get<std::string>()] = *activity;
    }
    pause("after");
  }
}

void Converter::Rollbacks(const ojson& v, const std::string& p) {
  if (!v.is_array()) return Error(p, FoundValue(v), "an array of actions");
  ojson& rollbacks = out_.native["rollbacks"];
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string ap = Child(p, i);
    const ojson* activity = Resolve(v[i], ap);
    if (activity == nullptr) continue;
    if (activity->contains("pauses")) Note(Child(ap, "pauses"), "pauses of rollbacks are ignored");
    if (activity->value("background", false)) {
      Note(Child(ap, "background"), "rollbacks run one after another");
    }
    auto probe = Probe(*activity, ap, false, nullptr);
    if (!probe) continue;
    if (options_.for_convert && (*probe)["type"] == "command" &&
        netem_interfaces_.count(TcNetemRemoval((*probe)["argv"].get<std::vector<std::string>>()))) {
      Note(ap, "dropped: the latency fault removes its own netem qdisc when it is reverted");
      continue;
    }
    ojson rollback = {{"name", (*probe)["name"]}};
    if ((*probe)["type"] == "command") {
      rollback["argv"] = (*probe)["argv"];
      if (probe->contains("timeout")) rollback["timeout"] = (*probe)["timeout"];
    } else {
      rollback["action"] = *probe;
    }
    rollbacks.push_back(rollback);
  }
}

void Converter::Runtime(const ojson& v, const std::string& p) {
  if (!v.is_object()) return Error(p, FoundValue(v), "an object");
  for (const auto& [k, x] : v.items()) {
    const std::string kp = Child(p, k);
    if (k == "rollbacks" && x.is_object()) {
      if (x.contains("strategy") && x["strategy"].is_string()) {
        rollback_strategy_ = x["strategy"].get<std::string>();
      }
    } else if (k == "hypothesis" && x.is_object()) {
      if (x.contains("strategy") && x["strategy"].is_string()) {
        hypothesis_strategy_ = x["strategy"].get<std::string>();
      }
      if (x.contains("frequency")) {
        auto text = SecondsText(x["frequency"]);
        auto d = text ? ParseDuration(*text) : Result<Duration>(Status::InvalidInput(""));
        if (!d.ok() || d->count() < 50) {
          Error(Child(kp, "frequency"), FoundValue(x["frequency"]),
                "a number of seconds of at least 0.05");
        } else {
          frequency_ = *d;
        }
      }
      if (x.contains("fail_fast"))
        fail_fast_ = x["fail_fast"].is_boolean() && x["fail_fast"].get<bool>();
    } else {
      Error(kp, k == "rollbacks" || k == "hypothesis" ? FoundValue(x) : kFoundUnknownKey,
            k == "rollbacks" || k == "hypothesis" ? "an object" : "one of rollbacks, hypothesis");
    }
  }
}

std::optional<CtkConversion> Converter::Run(const ojson& doc) {
  const size_t before = errors_.size();
  out_.native = {{"version", 1}, {"title", ""}};
  static const std::set<std::string> kKeys = {
      "version",       "title",     "description", "tags",     "contributions",
      "configuration", "secrets",   "extensions",  "controls", "steady-state-hypothesis",
      "method",        "rollbacks", "runtime",     "dry"};
  for (const auto& [k, x] : doc.items()) {
    if (kKeys.count(k) == 0) {
      Error(Child(std::string(), k), kFoundUnknownKey,
            "one of version, title, description, tags, contributions, configuration, secrets, "
            "extensions, steady-state-hypothesis, method, rollbacks, runtime");
    }
  }
  if (doc.contains("controls")) {
    Error("/controls", FoundValue(doc["controls"]),
          "no controls: they are Python modules, which ringfence does not run");
  }
  if (doc.contains("dry")) {
    Error("/dry", FoundValue(doc["dry"]), "no dry key: use ringfence run --dry-run");
  }
  // Everything below needs configuration and secrets: their errors end the conversion here.
  const size_t before_values = errors_.size();
  if (doc.contains("configuration")) ReadConfiguration(doc["configuration"], "/configuration");
  if (doc.contains("secrets")) ReadSecrets(doc["secrets"], "/secrets");
  if (errors_.size() != before_values) return std::nullopt;
  // Everything below sees configuration and secrets filled in.
  ojson filled = ojson::object();
  for (const auto& [k, x] : doc.items()) {
    filled[k] =
        (k == "configuration" || k == "secrets") ? x : Substitute(x, Child(std::string(), k));
  }

  if (!filled.contains("title") || !filled["title"].is_string()) {
    Error("/title", filled.contains("title") ? FoundValue(filled["title"]) : kFoundMissing,
          "a string");
  } else {
    out_.native["title"] = filled["title"];
  }
  if (filled.contains("description")) {
    if (!filled["description"].is_string()) {
      Error("/description", FoundValue(filled["description"]), "a string");
    } else {
      out_.native["description"] = filled["description"];
    }
  }
  if (filled.contains("tags")) out_.native["tags"] = filled["tags"];
  if (filled.contains("contributions")) {
    const ojson& c = filled["contributions"];
    if (!c.is_object()) {
      Error("/contributions", FoundValue(c), "an object of name: high|medium|low|none");
    } else {
      for (const auto& [k, x] : c.items()) {
        if (x != "high" && x != "medium" && x != "low" && x != "none") {
          Error(Child("/contributions", k), FoundValue(x), "one of high, medium, low, none");
        }
      }
      Note("/contributions", "kept in the Chaos Toolkit journal only");
    }
  }
  if (filled.contains("extensions")) Note("/extensions", "kept in the Chaos Toolkit journal only");
  if (filled.contains("runtime")) Runtime(filled["runtime"], "/runtime");
  if (!options_.rollback_strategy.empty()) rollback_strategy_ = options_.rollback_strategy;
  if (!options_.hypothesis_strategy.empty()) hypothesis_strategy_ = options_.hypothesis_strategy;
  if (options_.hypothesis_frequency) frequency_ = *options_.hypothesis_frequency;
  fail_fast_ = fail_fast_ || options_.fail_fast;
  static const std::set<std::string> kRollback = {"default", "always", "never", "deviated"};
  static const std::set<std::string> kHypothesis = {
      "default", "before-method-only", "after-method-only", "during-method", "continuously"};
  if (kRollback.count(rollback_strategy_) == 0) {
    Error("/runtime/rollbacks/strategy", FoundValue(ojson(rollback_strategy_)),
          "one of default, always, never, deviated");
  }
  if (kHypothesis.count(hypothesis_strategy_) == 0) {
    Error("/runtime/hypothesis/strategy", FoundValue(ojson(hypothesis_strategy_)),
          "one of default, before-method-only, after-method-only, during-method, continuously");
  }

  out_.native["steady_state"] = ojson::array();
  out_.native["method"] = ojson::array();
  out_.native["rollbacks"] = ojson::array();
  ojson guards = ojson::array();
  if (filled.contains("steady-state-hypothesis")) {
    const ojson& h = filled["steady-state-hypothesis"];
    const std::string hp = "/steady-state-hypothesis";
    if (!h.is_object()) {
      Error(hp, FoundValue(h), "an object with title and probes");
    } else {
      for (const auto& [k, x] : h.items()) {
        if (k != "title" && k != "probes" && k != "controls") {
          Error(Child(hp, k), kFoundUnknownKey, "one of title, probes");
        }
      }
      if (h.contains("controls")) {
        Error(Child(hp, "controls"), FoundValue(h["controls"]),
              "no controls: they are Python modules, which ringfence does not run");
      }
      const ojson probes = h.value("probes", ojson::array());
      if (!probes.is_array()) {
        Error(Child(hp, "probes"), FoundValue(probes), "an array of probes");
      } else {
        for (size_t i = 0; i < probes.size(); ++i) {
          const std::string pp = Child(Child(hp, "probes"), i);
          const ojson* activity = Resolve(probes[i], pp);
          if (activity == nullptr) continue;
          if (activity->contains("pauses")) {
            Note(Child(pp, "pauses"), "pauses in the hypothesis are ignored");
          }
          std::vector<ojson> extra;
          auto probe = Probe(*activity, pp, true, &extra);
          if (!probe) continue;
          if (activity->contains("name"))
            by_name_[(*activity)["name"].get<std::string>()] = *activity;
          extra.insert(extra.begin(), *probe);
          for (auto& native : extra) {
            out_.native["steady_state"].push_back(native);
            if (hypothesis_strategy_ == "during-method" || hypothesis_strategy_ == "continuously") {
              guards.push_back({{"name", "hypothesis-" + native["name"].get<std::string>()},
                                {"source", {{"type", "probe"}, {"probe", native}}},
                                {"condition", {{"min", 1}}},
                                {"interval", FormatDuration(frequency_)}});
            }
          }
        }
      }
    }
  }
  if (!filled.contains("method") || !filled["method"].is_array() || filled["method"].empty()) {
    // Chaos Toolkit requires one too.
    Error("/method", filled.contains("method") ? FoundValue(filled["method"]) : kFoundMissing,
          "an array of at least one activity");
  } else {
    Method(filled["method"], "/method");
  }
  if (filled.contains("rollbacks")) Rollbacks(filled["rollbacks"], "/rollbacks");
  if (!targets_.empty()) {
    ojson targets = ojson::object();
    for (const auto& [name, t] : targets_) targets[name] = t;
    out_.native["targets"] = targets;
  }
  out_.native["guards"] = guards;
  ojson settings = {{"rollback_strategy", rollback_strategy_}};
  if (hypothesis_strategy_ == "after-method-only" || hypothesis_strategy_ == "during-method") {
    settings["steady_state_before"] = false;
  }
  if (hypothesis_strategy_ == "before-method-only" || hypothesis_strategy_ == "during-method") {
    settings["steady_state_after"] = false;
  }
  if (!fail_fast_ && !guards.empty()) {
    Note("/runtime/hypothesis",
         "a deviation during the method aborts the run and reverts at once, as with "
         "--fail-fast (ringfence is stricter than Chaos Toolkit here)");
  }
  out_.native["settings"] = settings;
  if (errors_.size() != before) return std::nullopt;
  // In the order of a native file.
  ojson ordered = ojson::object();
  for (const char* key : {"version", "title", "description", "tags", "targets", "steady_state",
                          "method", "guards", "rollbacks", "settings"}) {
    if (out_.native.contains(key)) ordered[key] = out_.native[key];
  }
  out_.native = std::move(ordered);
  return std::move(out_);
}

}  // namespace

bool LooksLikeChaosToolkit(const ojson& doc) {
  if (!doc.is_object()) return false;
  if (doc.contains("steady-state-hypothesis")) return true;
  for (const char* key : {"method", "rollbacks"}) {
    if (!doc.contains(key) || !doc[key].is_array()) continue;
    for (const auto& entry : doc[key]) {
      if (entry.is_object() && (entry.contains("provider") || entry.contains("ref"))) return true;
    }
  }
  return false;
}

std::optional<CtkConversion> ConvertChaosToolkit(const ojson& doc, const CtkOptions& options,
                                                 ValidationErrors& errors) {
  if (!doc.is_object()) {
    errors.Add("", FoundValue(doc), "a Chaos Toolkit experiment object");
    return std::nullopt;
  }
  return Converter(options, errors).Run(doc);
}

std::optional<std::vector<std::string>> SplitShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string::npos) return std::nullopt;
      word += line.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == '$' ||
             line[j + 1] == '`')) {
          ++j;
        }
        word += line[j];
      }
      if (j >= line.size()) return std::nullopt;
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) return std::nullopt;
      word += line[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace ringfence
