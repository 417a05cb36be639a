// The host protocol (core/fleet/host_protocol.cc) as the host side reads it: one line is tried as a
// host session request (`ringfence host session` reads these from the runner), as a session
// reply, and as the JSON request of a one-shot `ringfence host <action>`; every wire decoder
// (selector, fault step, target, process, undo record) is applied to the request's fields, as
// the host's actions do. The runner's reading of replies is fuzzed by fleet_replies.

#include <nlohmann/json.hpp>

#include "core/fault/fault.h"
#include "core/fleet/host_protocol.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace ringfence;

void DecodeRequest(const nlohmann::json& request) {
  if (!request.is_object()) return;
  if (auto it = request.find("selector"); it != request.end()) (void)SelectorFromWire(*it);
  if (auto it = request.find("step"); it != request.end()) (void)FaultStepFromJson(*it);
  if (auto it = request.find("target"); it != request.end()) (void)TargetFromWire(*it);
  if (auto it = request.find("targets"); it != request.end() && it->is_array()) {
    for (const auto& t : *it) (void)TargetFromWire(t);
  }
  if (auto it = request.find("undo"); it != request.end()) (void)UndoRecordFromWire(*it);
  if (auto it = request.find("process"); it != request.end()) (void)ProcessInfoFromJson(*it);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(fuzz::AsText(data, size));

  const auto request = ParseSessionRequest(line);
  if (request.ok()) {
    (void)SessionRequestLine(*request);
    DecodeRequest(request->request);
  }
  const auto reply = ParseSessionReply(line);
  if (reply.ok()) {
    (void)SessionReplyLine(*reply);
    (void)StatusOfReply(reply->reply);
  }
  const nlohmann::json one_shot = nlohmann::json::parse(line, nullptr, false);
  if (!one_shot.is_discarded()) {
    (void)StatusOfReply(one_shot);
    DecodeRequest(one_shot);
  }
  return 0;
}
