// The real ProbeRunner (core/observe/probe.h) and Tolerance::ToJson (core/model/experiment.h).
#include "core/observe/probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/base/json_path.h"
#include "core/targets/target_resolver.h"

namespace ringfence {
namespace {

constexpr size_t kMaxHttpBodyBytes = 1 << 20;

// Whole numbers print as integers ({"min": 200}, not 200.0).
nlohmann::json NumberJson(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
    return static_cast<long long>(v);
  }
  return v;
}

const char* ProbeTypeText(ProbeType type) {
  switch (type) {
    case ProbeType::kHttp:
      return "http";
    case ProbeType::kTcp:
      return "tcp";
    case ProbeType::kCommand:
      return "command";
    case ProbeType::kProcessAlive:
      return "process_alive";
  }
  return "unknown";
}

// A search with a pattern compiled at validation; one that did not compile (a probe built
// in code) reports why instead of matching.
Result<bool> RegexSearch(const Regex& pattern, const std::string& text) {
  if (!pattern.ok()) {
    return Status::InvalidInput("invalid regex /" + pattern.pattern() + "/: " + pattern.error());
  }
  return pattern.Search(text);
}

// Sets outcome.met from the tolerance and, when it fails, a detail such as
// `status 503 is not within {"exact":200}`.
void JudgeValue(ProbeOutcome& outcome, const Tolerance& tolerance, const char* what) {
  outcome.met = WithinTolerance(tolerance, outcome.value);
  if (!outcome.met) {
    outcome.detail = std::string(what) + " " + outcome.value.dump() + " is not within " +
                     outcome.tolerance.dump();
  }
}

// Then, when the value was within tolerance, requires `pattern` to match `text`.
void JudgeText(ProbeOutcome& outcome, const std::optional<Regex>& pattern, const std::string& text,
               const char* what) {
  if (!outcome.met || !pattern) return;
  Result<bool> matched = RegexSearch(*pattern, text);
  if (!matched.ok()) {
    outcome.met = false;
    outcome.detail = matched.status().message();
  } else if (!*matched) {
    outcome.met = false;
    outcome.detail = std::string(what) + " does not match /" + pattern->pattern() + "/";
  }
}

// Then, when still met, requires `check` to hold for `text` read as JSON.
void JudgeJsonPath(ProbeOutcome& outcome, const std::optional<JsonPathCheck>& check,
                   const std::string& text, const char* what) {
  if (!outcome.met || !check) return;
  outcome.met = false;
  Result<JsonPath> path = JsonPath::Parse(check->path);
  if (!path.ok()) {
    outcome.detail = "invalid JSONPath " + check->path + ": " + path.status().message();
    return;
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    outcome.detail = std::string(what) + " is not JSON";
    return;
  }
  const std::vector<nlohmann::json> found = path->Select(doc);
  const nlohmann::json matches(found);
  if (check->expect) {
    outcome.met = check->expect->is_array() ? matches == *check->expect
                                            : found.size() == 1 && found[0] == *check->expect;
  } else if (check->count) {
    outcome.met = static_cast<int64_t>(found.size()) == *check->count;
  } else {
    outcome.met = !found.empty();
  }
  if (!outcome.met) {
    std::string shown = matches.dump();
    if (shown.size() > 200) shown = shown.substr(0, 199) + "…";
    outcome.detail = std::string(what) + " " + check->path + " selects " + shown + ", expected " +
                     check->ToJson().dump();
  }
}

// How often a TCP connect looks at its stop request.
constexpr std::chrono::milliseconds kStopPollInterval{50};

// Connects to address:port within `timeout`: Ok, or the reason it did not.
Status TcpConnect(const std::string& address, int port, std::chrono::milliseconds timeout,
                  const StopSource* stop) {
  timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::hours(24));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = address + ":" + std::to_string(port);
  const std::string timed_out = "timed out after " + FormatDuration(timeout);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int gai = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (gai != 0) {
    return Status::Unavailable("resolve " + address + " failed: " + ::gai_strerror(gai));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

  Status last = Status::Unavailable("connect to " + where + " failed: no address");
  for (addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Status::FromErrno(errno, "socket for " + where);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) err = errno;
    if (err == EINPROGRESS) {
      err = ETIMEDOUT;
      for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        if (stop != nullptr && stop->stop_requested()) {
          ::close(fd);
          return Status::Runtime("interrupted by " + stop->reason());
        }
        pollfd pfd{fd, POLLOUT, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(std::min(left, kStopPollInterval).count()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          err = errno;
          break;
        }
        if (n == 0) continue;  // the deadline check above ends the loop
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        break;
      }
    }
    ::close(fd);
    if (err == 0) return Status::Ok();
    if (err == ETIMEDOUT) return Status::Timeout(timed_out);
    last = Status::Unavailable("connect to " + where + " failed: " + std::strerror(err));
  }
  return last;
}

class SystemProbeRunner : public ProbeRunner {
 public:
  explicit SystemProbeRunner(Env& system) : system_(system) {}

  ProbeOutcome Run(const ProbeSpec& probe, const Experiment& experiment) override {
    return RunProbe(probe, experiment, nullptr);
  }
  ProbeOutcome Run(const ProbeSpec& probe, const Experiment& experiment,
                   const StopSource& stop) override {
    return RunProbe(probe, experiment, &stop);
  }

 private:
  ProbeOutcome RunProbe(const ProbeSpec& probe, const Experiment& experiment,
                        const StopSource* stop) {
    ProbeOutcome outcome;
    outcome.name = probe.name;
    outcome.type = ProbeTypeText(probe.type);
    try {
      const Tolerance tolerance = EffectiveTolerance(probe);
      outcome.tolerance = tolerance.ToJson();
      switch (probe.type) {
        case ProbeType::kHttp:
          RunHttp(probe, tolerance, stop, outcome);
          break;
        case ProbeType::kTcp:
          RunTcp(probe, tolerance, stop, outcome);
          break;
        case ProbeType::kCommand:
          RunCommandProbe(probe, tolerance, stop, outcome);
          break;
        case ProbeType::kProcessAlive:
          RunProcessAlive(probe, experiment, tolerance, outcome);
          break;
      }
    } catch (const std::exception& e) {
      // Run() must not throw (e.g. std::bad_alloc, a json type error): the probe is not met.
      outcome.value = nullptr;
      outcome.met = false;
      outcome.detail = std::string("probe failed: ") + e.what();
    }
    return outcome;
  }

  void RunHttp(const ProbeSpec& probe, const Tolerance& tolerance, const StopSource* stop,
               ProbeOutcome& outcome) {
    HttpRequest request;
    request.method = probe.method;
    request.url = probe.url;
    request.headers = probe.headers;
    request.body = probe.body;
    request.content_type = probe.content_type;
    request.verify_tls = probe.verify_tls;
    request.timeout = probe.timeout;
    request.max_body_bytes = kMaxHttpBodyBytes;
    request.stop = stop;
    Result<HttpResponse> response = system_.Fetch(request);
    if (!response.ok()) {
      outcome.detail = response.status().message();
      return;
    }
    outcome.value = response->status;
    JudgeValue(outcome, tolerance, "status");
    JudgeText(outcome, probe.body_regex, response->body, "body");
    JudgeJsonPath(outcome, probe.body_jsonpath, response->body, "body");
  }

  static void RunTcp(const ProbeSpec& probe, const Tolerance& tolerance, const StopSource* stop,
                     ProbeOutcome& outcome) {
    Status connected = TcpConnect(probe.address, probe.port, probe.timeout, stop);
    if (stop != nullptr && stop->stop_requested() && !connected.ok()) {
      outcome.value = nullptr;
      outcome.detail = connected.message();
      return;
    }
    outcome.value = connected.ok();
    outcome.met = WithinTolerance(tolerance, outcome.value);
    if (!outcome.met) {
      outcome.detail = connected.ok()
                           ? "connected to " + probe.address + ":" + std::to_string(probe.port) +
                                 ", expected " + outcome.tolerance.dump()
                           : connected.message();
    }
  }

  void RunCommandProbe(const ProbeSpec& probe, const Tolerance& tolerance, const StopSource* stop,
                       ProbeOutcome& outcome) {
    Result<CommandResult> result = system_.Run(probe.argv, probe.timeout, stop);
    if (!result.ok()) {
      outcome.detail = result.status().message();
      return;
    }
    if (result->interrupted) {
      outcome.detail = "interrupted by " + stop->reason();
      return;
    }
    if (result->timed_out) {
      outcome.detail = "timed out after " + FormatDuration(probe.timeout);
      return;
    }
    outcome.value = result->exit_code;
    JudgeValue(outcome, tolerance, "exit code");
    JudgeText(outcome, probe.stdout_regex, result->out, "stdout");
    JudgeJsonPath(outcome, probe.stdout_jsonpath, result->out, "stdout");
  }

  void RunProcessAlive(const ProbeSpec& probe, const Experiment& experiment,
                       const Tolerance& tolerance, ProbeOutcome& outcome) {
    const TargetSpec* target = experiment.FindTarget(probe.target);
    if (target == nullptr) {
      outcome.detail = "unknown target: " + probe.target;
      return;
    }
    Result<std::vector<ProcessInfo>> matches = MatchProcesses(system_.processes(), target->process);
    if (!matches.ok()) {
      outcome.detail = matches.status().message();
      return;
    }
    outcome.value = static_cast<long long>(matches->size());
    JudgeValue(outcome, tolerance, "process count");
  }

  Env& system_;
};

}  // namespace

nlohmann::json Tolerance::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  switch (kind) {
    case Kind::kExact:
      j["exact"] = exact;
      break;
    case Kind::kRange:
      if (min) j["min"] = NumberJson(*min);
      if (max) j["max"] = NumberJson(*max);
      break;
    case Kind::kRegex:
      j["regex"] = regex.pattern();
      break;
    case Kind::kOneOf:
      j["one_of"] = one_of;
      break;
  }
  return j;
}

nlohmann::json JsonPathCheck::ToJson() const {
  nlohmann::json j = {{"path", path}};
  if (expect) j["expect"] = *expect;
  if (count) j["count"] = *count;
  return j;
}

nlohmann::json ProbeOutcome::ToJson() const {
  return {{"name", name},           {"type", type}, {"value", value},
          {"tolerance", tolerance}, {"met", met},   {"detail", detail}};
}

bool WithinTolerance(const Tolerance& tolerance, const nlohmann::json& value) {
  switch (tolerance.kind) {
    case Tolerance::Kind::kExact:
      // nlohmann compares numbers by value across integer and floating types (200 == 200.0).
      return !value.is_null() && value == tolerance.exact;
    case Tolerance::Kind::kRange: {
      if (!value.is_number()) return false;
      double v = value.get<double>();
      if (tolerance.min && v < *tolerance.min) return false;
      if (tolerance.max && v > *tolerance.max) return false;
      return true;
    }
    case Tolerance::Kind::kRegex: {
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_number()) {
        text = value.dump();
      } else {
        return false;
      }
      Result<bool> matched = RegexSearch(tolerance.regex, text);
      return matched.ok() && *matched;
    }
    case Tolerance::Kind::kOneOf:
      if (value.is_null() || !tolerance.one_of.is_array()) return false;
      return std::find(tolerance.one_of.begin(), tolerance.one_of.end(), value) !=
             tolerance.one_of.end();
  }
  return false;
}

Tolerance EffectiveTolerance(const ProbeSpec& probe) {
  const Tolerance& given = probe.tolerance;
  if (given.kind != Tolerance::Kind::kExact || !given.exact.is_null()) return given;
  Tolerance t;
  switch (probe.type) {
    case ProbeType::kHttp:
      t.exact = 200;
      break;
    case ProbeType::kCommand:
      t.exact = 0;
      break;
    case ProbeType::kTcp:
      t.exact = true;
      break;
    case ProbeType::kProcessAlive:
      t.kind = Tolerance::Kind::kRange;
      t.min = 1;
      break;
  }
  return t;
}

std::unique_ptr<ProbeRunner> MakeProbeRunner(Env& system) {
  return std::make_unique<SystemProbeRunner>(system);
}

}  // namespace ringfence
