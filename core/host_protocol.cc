#include "core/host_protocol.h"

namespace ringfence {

nlohmann::json ProcessInfoToJson(const ProcessInfo& p) {
  return {{"pid", p.pid},   {"start_ticks", p.start_ticks},
          {"name", p.name}, {"cmdline", p.cmdline},
          {"uid", p.uid},   {"state", std::string(1, p.state)}};
}

ProcessInfo ProcessInfoFromJson(const nlohmann::json& j) {
  ProcessInfo p;
  p.pid = j.value("pid", 0);
  p.start_ticks = j.value("start_ticks", 0ULL);
  p.name = j.value("name", "");
  p.cmdline = j.value("cmdline", "");
  p.uid = j.value("uid", 0u);
  const std::string state = j.value("state", "?");
  p.state = state.empty() ? '?' : state[0];
  return p;
}

nlohmann::json TargetToWire(const Target& t) {
  return {{"host", t.host}, {"label", t.label}, {"process", ProcessInfoToJson(t.process)}};
}

Target TargetFromWire(const nlohmann::json& j) {
  Target t;
  t.host = j.value("host", "local");
  t.label = j.value("label", "");
  if (j.contains("process")) t.process = ProcessInfoFromJson(j["process"]);
  return t;
}

nlohmann::json FaultStepToJson(const FaultStep& step) {
  return {{"name", step.name},
          {"type", step.type},
          {"target", step.target},
          {"params", step.params},
          {"duration_ms", step.duration.count()},
          {"start_after_ms", step.start_after.count()}};
}

FaultStep FaultStepFromJson(const nlohmann::json& j) {
  FaultStep step;
  step.name = j.value("name", "");
  step.type = j.value("type", "");
  step.target = j.value("target", "");
  step.params = j.value("params", nlohmann::json::object());
  step.duration = Duration(j.value("duration_ms", 0LL));
  step.start_after = Duration(j.value("start_after_ms", 0LL));
  return step;
}

nlohmann::json SelectorToWire(const ProcessSelector& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.pid) j["pid"] = *s.pid;
  if (s.pidfile) j["pidfile"] = *s.pidfile;
  if (s.name) j["name"] = *s.name;
  if (s.cmdline) j["cmdline"] = *s.cmdline;
  if (s.user) j["user"] = *s.user;
  return j;
}

ProcessSelector SelectorFromWire(const nlohmann::json& j) {
  ProcessSelector s;
  if (j.contains("pid")) s.pid = j["pid"].get<int>();
  if (j.contains("pidfile")) s.pidfile = j["pidfile"].get<std::string>();
  if (j.contains("name")) s.name = j["name"].get<std::string>();
  if (j.contains("cmdline")) s.cmdline = j["cmdline"].get<std::string>();
  if (j.contains("user")) s.user = j["user"].get<std::string>();
  return s;
}

namespace {
constexpr std::pair<StatusCode, const char*> kCodeNames[] = {
    {StatusCode::kOk, "ok"},
    {StatusCode::kInvalidInput, "invalid_input"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kPermission, "permission"},
    {StatusCode::kUnavailable, "unavailable"},
    {StatusCode::kTimeout, "timeout"},
    {StatusCode::kRuntime, "runtime"},
};
}  // namespace

const char* StatusCodeName(StatusCode code) {
  for (const auto& [c, name] : kCodeNames) {
    if (c == code) return name;
  }
  return "runtime";
}

StatusCode StatusCodeFromName(const std::string& name) {
  for (const auto& [c, n] : kCodeNames) {
    if (name == n) return c;
  }
  return StatusCode::kRuntime;
}

nlohmann::json ErrorReply(const Status& status) {
  return {{"ok", false}, {"code", StatusCodeName(status.code())}, {"error", status.message()}};
}

Status StatusOfReply(const nlohmann::json& reply) {
  if (!reply.is_object()) return Status::Runtime("the host sent no reply object");
  if (reply.value("ok", false)) return Status::Ok();
  StatusCode code = StatusCodeFromName(reply.value("code", "runtime"));
  if (code == StatusCode::kOk) code = StatusCode::kRuntime;
  return Status::Error(code, reply.value("error", "the host reported an unnamed error"));
}

std::string SessionRequestLine(const SessionRequest& request) {
  const nlohmann::json line = {
      {"id", request.id}, {"action", request.action}, {"request", request.request}};
  return line.dump();
}

std::string SessionReplyLine(const SessionReply& reply) {
  const nlohmann::json line = {{"id", reply.id}, {"reply", reply.reply}};
  return line.dump();
}

namespace {
Result<nlohmann::json> ParseLineObject(const std::string& line, const char* what) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return Status::InvalidInput(std::string(what) + ": not JSON");
  if (!j.is_object()) return Status::InvalidInput(std::string(what) + ": not a JSON object");
  if (!j.contains("id") || !j["id"].is_number_unsigned()) {
    return Status::InvalidInput(std::string(what) + ": no \"id\" (a number from 0)");
  }
  return j;
}
}  // namespace

Result<SessionRequest> ParseSessionRequest(const std::string& line) {
  auto j = ParseLineObject(line, "session request");
  if (!j.ok()) return j.status();
  SessionRequest r;
  r.id = (*j)["id"].get<uint64_t>();
  if (!j->contains("action") || !(*j)["action"].is_string()) {
    return Status::InvalidInput("session request: no \"action\" string");
  }
  r.action = (*j)["action"].get<std::string>();
  if (j->contains("request")) {
    if (!(*j)["request"].is_object()) {
      return Status::InvalidInput("session request: \"request\" is not an object");
    }
    r.request = (*j)["request"];
  }
  return r;
}

Result<SessionReply> ParseSessionReply(const std::string& line) {
  auto j = ParseLineObject(line, "session reply");
  if (!j.ok()) return j.status();
  if (!j->contains("reply") || !(*j)["reply"].is_object()) {
    return Status::InvalidInput("session reply: no \"reply\" object");
  }
  return SessionReply{(*j)["id"].get<uint64_t>(), (*j)["reply"]};
}

}  // namespace ringfence
