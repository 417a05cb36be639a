#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/fault/fault.h"
#include "core/model/experiment.h"

namespace ringfence {

// The wire format between the runner and `ringfence host <action>` on a host (docs/fleets.md):
// one JSON request on stdin, one JSON reply on stdout. A reply is {"ok": true, ...} or
// {"ok": false, "code": "<status code>", "error": "<message>"}; the command exits 0 whenever it
// wrote a reply, so that an exit code other than 0 always means the transport or the binary.
inline constexpr int kHostProtocolVersion = 1;

// The `reverted_by` of what a host's own watchdog (`ringfence host watchdog`) reverted: in the
// host's ledger, in a `verify` reply, and from there in the runner's ledger and the journal.
inline constexpr char kHostWatchdog[] = "host watchdog";

// The readers below take what came over the wire without trusting it: a member of the wrong
// type is an error naming it (`"pid" is "x", not an integer from 1 to 2147483647`), never an
// exception. Callers name the host.
nlohmann::json ProcessInfoToJson(const ProcessInfo& p);
Result<ProcessInfo> ProcessInfoFromJson(const nlohmann::json& j);

// The whole Target (host, label, process), unlike Target::ToJson which is the journal's view.
nlohmann::json TargetToWire(const Target& t);
Result<Target> TargetFromWire(const nlohmann::json& j);

// An undo record in a host's reply (`plan`) or the runner's request, every member checked.
Result<UndoRecord> UndoRecordFromWire(const nlohmann::json& j);

nlohmann::json FaultStepToJson(const FaultStep& step);
// Checked: a member of the wrong type is an error, never an exception.
Result<FaultStep> FaultStepFromJson(const nlohmann::json& j);

// The process part of a target spec (selector and process selection).
nlohmann::json SelectorToWire(const ProcessSelector& s);
Result<ProcessSelector> SelectorFromWire(const nlohmann::json& j);

const char* StatusCodeName(StatusCode code);
StatusCode StatusCodeFromName(const std::string& name);

nlohmann::json ErrorReply(const Status& status);

// The session form (`ringfence host session`): one long-lived command per host for a run, many
// requests over it. Each request is one line {"id": N, "action": "<action>", "request": {...}}
// on its stdin; each reply is one line {"id": N, "reply": {<the action's reply>}} on its stdout.
// Replies may come in another order than the requests (a heartbeat is answered at once, the
// other actions in order), so they are matched by id.
struct SessionRequest {
  uint64_t id = 0;
  std::string action;
  nlohmann::json request = nlohmann::json::object();
};
struct SessionReply {
  uint64_t id = 0;
  nlohmann::json reply;
};
std::string SessionRequestLine(const SessionRequest& request);  // without the newline
std::string SessionReplyLine(const SessionReply& reply);        // without the newline
// A line that is not such a request is an error naming what is wrong, e.g.
// "session request: no \"action\" string".
Result<SessionRequest> ParseSessionRequest(const std::string& line);
Result<SessionReply> ParseSessionReply(const std::string& line);
// The Status a reply stands for: Ok for {"ok": true}, else its code and error; a reply whose
// "ok", "code" or "error" has the wrong type is a kRuntime error saying so.
Status StatusOfReply(const nlohmann::json& reply);

}  // namespace ringfence
