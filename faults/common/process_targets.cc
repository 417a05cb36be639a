#include "faults/common/process_targets.h"

#include <unistd.h>

namespace ringfence {

Status CheckTargetsSignallable(ProcessTable& processes, const std::vector<Target>& targets) {
  const pid_t self = getpid();
  for (const auto& t : targets) {
    if (t.process.pid <= 1) return Status::InvalidInput(t.label + ": refusing to signal PID 1");
    if (t.process.pid == self) {
      return Status::InvalidInput(t.label + ": refusing to signal the runner itself");
    }
    Status s = processes.Signal(t.process.pid, t.process.start_ticks, 0);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

nlohmann::json SelectorToJson(const ProcessSelector& selector) {
  nlohmann::json j = nlohmann::json::object();
  if (selector.pid) j["pid"] = *selector.pid;
  if (selector.pidfile) j["pidfile"] = *selector.pidfile;
  if (selector.name) j["name"] = *selector.name;
  if (selector.cmdline) j["cmdline"] = selector.cmdline->pattern();
  if (selector.user) j["user"] = *selector.user;
  return j;
}

Result<ProcessSelector> SelectorFromJson(const nlohmann::json& j) {
  const auto invalid = [&] {
    return Status::InvalidInput("undo record has no valid selector: " + j.dump());
  };
  if (!j.is_object()) return invalid();
  ProcessSelector s;
  int kinds = 0;
  for (const auto& [key, value] : j.items()) {
    if (key == "pid") {
      if (!value.is_number_integer()) return invalid();
      s.pid = value.get<int>();
      ++kinds;
    } else if (key == "pidfile" || key == "name" || key == "cmdline" || key == "user") {
      if (!value.is_string()) return invalid();
      const std::string text = value.get<std::string>();
      if (key == "pidfile") s.pidfile = text, ++kinds;
      if (key == "name") s.name = text, ++kinds;
      if (key == "cmdline") s.cmdline = text, ++kinds;
      if (key == "user") s.user = text;
    } else {
      return invalid();
    }
  }
  if (kinds != 1) return invalid();
  return s;
}

long long EpochMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace ringfence
