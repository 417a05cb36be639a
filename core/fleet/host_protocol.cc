#include "core/fleet/host_protocol.h"

#include <climits>

#include "core/base/json_fields.h"

namespace ringfence {

nlohmann::json ProcessInfoToJson(const ProcessInfo& p) {
  return {{"pid", p.pid},   {"start_ticks", p.start_ticks},
          {"name", p.name}, {"cmdline", p.cmdline},
          {"uid", p.uid},   {"state", std::string(1, p.state)}};
}

Result<ProcessInfo> ProcessInfoFromJson(const nlohmann::json& j) {
  auto pid = IntegerMember(j, "pid", 0, INT_MAX, 0);
  auto ticks = UnsignedMember(j, "start_ticks", 0);
  auto name = StringMember(j, "name", "");
  auto cmdline = StringMember(j, "cmdline", "");
  auto uid = IntegerMember(j, "uid", 0, UINT32_MAX, 0);
  auto state = StringMember(j, "state", "?");
  for (const Status* st : {&pid.status(), &ticks.status(), &name.status(), &cmdline.status(),
                           &uid.status(), &state.status()}) {
    if (!st->ok()) return Status::Runtime("process: " + st->message());
  }
  ProcessInfo p;
  p.pid = static_cast<pid_t>(*pid);
  p.start_ticks = *ticks;
  p.name = *name;
  p.cmdline = *cmdline;
  p.uid = static_cast<uid_t>(*uid);
  p.state = state->empty() ? '?' : (*state)[0];
  return p;
}

nlohmann::json TargetToWire(const Target& t) {
  return {{"host", t.host}, {"label", t.label}, {"process", ProcessInfoToJson(t.process)}};
}

Result<Target> TargetFromWire(const nlohmann::json& j) {
  auto host = StringMember(j, "host", "local");
  if (!host.ok()) return Status::Runtime("target: " + host.status().message());
  auto label = StringMember(j, "label", "");
  if (!label.ok()) return Status::Runtime("target: " + label.status().message());
  Target t;
  t.host = *host;
  t.label = *label;
  if (j.contains("process")) {
    auto process = ProcessInfoFromJson(j["process"]);
    if (!process.ok()) return Status::Runtime("target: " + process.status().message());
    t.process = *process;
  }
  return t;
}

Result<UndoRecord> UndoRecordFromWire(const nlohmann::json& j) {
  for (const char* key : {"fault_type", "fault_name", "host", "target", "manual_undo"}) {
    if (auto s = StringMember(j, key, ""); !s.ok()) {
      return Status::Runtime("undo record: " + s.status().message());
    }
  }
  if (auto d = IntegerMember(j, "deadline_ms", INT64_MIN, INT64_MAX, 0); !d.ok()) {
    return Status::Runtime("undo record: " + d.status().message());
  }
  if (auto data = ObjectMember(j, "data", true); !data.ok()) {
    return Status::Runtime("undo record: " + data.status().message());
  }
  return UndoRecord::Parse(j, "/undo");
}

nlohmann::json FaultStepToJson(const FaultStep& step) {
  return {{"name", step.name},
          {"type", step.type},
          {"target", step.target},
          {"params", step.params},
          {"duration_ms", step.duration.count()},
          {"start_after_ms", step.start_after.count()}};
}

Result<FaultStep> FaultStepFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Runtime("fault step: not an object");
  auto name = StringMember(j, "name", "");
  auto type = StringMember(j, "type", "");
  auto target = StringMember(j, "target", "");
  auto params = ObjectMember(j, "params", true);
  auto duration = IntegerMember(j, "duration_ms", 0, INT64_MAX / 2, 0);
  auto start_after = IntegerMember(j, "start_after_ms", 0, INT64_MAX / 2, 0);
  for (const Status* st : {&name.status(), &type.status(), &target.status(), &params.status(),
                           &duration.status(), &start_after.status()}) {
    if (!st->ok()) return Status::Runtime("fault step: " + st->message());
  }
  FaultStep step;
  step.name = *name;
  step.type = *type;
  step.target = *target;
  step.params = *params;
  step.duration = Duration(*duration);
  step.start_after = Duration(*start_after);
  return step;
}

nlohmann::json SelectorToWire(const ProcessSelector& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.pid) j["pid"] = *s.pid;
  if (s.pidfile) j["pidfile"] = *s.pidfile;
  if (s.name) j["name"] = *s.name;
  if (s.cmdline) j["cmdline"] = s.cmdline->pattern();
  if (s.user) j["user"] = *s.user;
  return j;
}

Result<ProcessSelector> SelectorFromWire(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Runtime("selector: not an object");
  ProcessSelector s;
  auto fail = [](const Status& st) { return Status::Runtime("selector: " + st.message()); };
  if (j.contains("pid")) {
    auto pid = IntegerMember(j, "pid", 1, INT_MAX);
    if (!pid.ok()) return fail(pid.status());
    s.pid = static_cast<int>(*pid);
  }
  for (auto [key, field] :
       {std::pair{"pidfile", &s.pidfile}, std::pair{"name", &s.name}, std::pair{"user", &s.user}}) {
    if (!j.contains(key)) continue;
    auto value = StringMember(j, key);
    if (!value.ok()) return fail(value.status());
    *field = *value;
  }
  if (j.contains("cmdline")) {
    auto cmdline = StringMember(j, "cmdline");
    if (!cmdline.ok()) return fail(cmdline.status());
    s.cmdline = Regex(*cmdline);
    if (!s.cmdline->ok()) return Status::Runtime("selector: cmdline: " + s.cmdline->error());
  }
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
  auto ok = BoolMember(reply, "ok", false);
  if (!ok.ok()) return Status::Runtime("the host's reply is malformed: " + ok.status().message());
  if (*ok) return Status::Ok();
  auto name = StringMember(reply, "code", "runtime");
  auto error = StringMember(reply, "error", "the host reported an unnamed error");
  if (!name.ok() || !error.ok()) {
    return Status::Runtime("the host's reply is malformed: " +
                           (name.ok() ? error : name).status().message());
  }
  StatusCode code = StatusCodeFromName(*name);
  if (code == StatusCode::kOk) code = StatusCode::kRuntime;
  return Status::Error(code, *error);
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
  auto parsed = ParseUntrustedJson(line);
  if (!parsed.ok())
    return Status::InvalidInput(std::string(what) + ": " + parsed.status().message());
  nlohmann::json j = std::move(*parsed);
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
