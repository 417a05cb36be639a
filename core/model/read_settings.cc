// The experiment reader: /rollbacks and /settings (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include <chrono>

#include "core/model/experiment.h"

namespace ringfence::internal {

std::optional<RollbackSpec> ExperimentReader::ReadRollback(const ojson& v, const std::string& p,
                                                           size_t index) {
  if (!v.is_object()) {
    Error(p, v, "a rollback object");
    return std::nullopt;
  }
  RollbackSpec r;
  r.name = "rollback-" + std::to_string(index);
  const size_t before = errors_.size();
  ReadObject(v, p,
             {{"name", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto s = String(x, xp, true, kNonEmptyString)) r.name = *s;
               }},
              {"argv", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto a = Strings(x, xp, kArgvAllowed, true)) r.argv = *a;
               }},
              {"action", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto probe = ReadProbe(x, xp, index)) r.action = *probe;
               }},
              {"timeout", false, "", [&](const ojson& x, const std::string& xp) {
                 if (auto d = DurationValue(x, xp, true)) {
                   r.timeout = *d;
                   timeouts_.emplace_back(xp, *d);
                 }
               }}});
  if (errors_.size() != before) return std::nullopt;
  if (v.contains("argv") == v.contains("action")) {
    if (v.contains("argv")) {
      Error(p, v, "exactly one of argv, action");
    } else {
      errors_.Add(Child(p, "argv"), kFoundMissing, kArgvAllowed);
    }
    return std::nullopt;
  }
  return r;
}

void ExperimentReader::ReadSettings(const ojson& v, const std::string& p, Settings& s) {
  if (!v.is_object()) return Error(p, v, "an object");
  ReadObject(v, p,
             {{"seed", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (!x.is_number_unsigned()) return Error(xp, x, "an unsigned integer");
                 s.seed = x.get<uint64_t>();
               }},
              {"probe_timeout", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto d = DurationValue(x, xp, true)) {
                   s.probe_timeout = *d;
                   timeouts_.emplace_back(xp, *d);
                 }
               }},
              {"revert_attempts", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 1, 10, "an integer from 1 to 10")) {
                   s.revert_attempts = static_cast<int>(*n);
                 }
               }},
              {"max_concurrency", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 1, 1024, "an integer from 1 to 1024")) {
                   s.max_concurrency = static_cast<int>(*n);
                 }
               }},
              {"on_unreachable", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (x != "abort" && x != "skip") return Error(xp, x, "one of abort, skip");
                 s.skip_unreachable = x == "skip";
               }},
              {"max_targets", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 1, 1000000, "an integer from 1 to 1000000")) {
                   s.max_targets = static_cast<int>(*n);
                 }
               }},
              {"max_hold", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto d = DurationValue(x, xp, true)) {
                   if (*d > std::chrono::hours(24)) {
                     return Error(xp, x, "a duration greater than 0 and at most 24h");
                   }
                   s.max_hold = *d;
                 }
               }},
              {"steady_state_before", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto b = Bool(x, xp)) s.steady_state_before = *b;
               }},
              {"steady_state_after", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto b = Bool(x, xp)) s.steady_state_after = *b;
               }},
              {"rollback_strategy", false, "",
               [&](const ojson& x, const std::string& xp) {
                 static const std::map<std::string, RollbackStrategy> kStrategies = {
                     {"after-revert", RollbackStrategy::kAfterRevert},
                     {"default", RollbackStrategy::kDefault},
                     {"always", RollbackStrategy::kAlways},
                     {"never", RollbackStrategy::kNever},
                     {"deviated", RollbackStrategy::kDeviated}};
                 auto it =
                     x.is_string() ? kStrategies.find(x.get<std::string>()) : kStrategies.end();
                 if (it == kStrategies.end()) {
                   return Error(xp, x, "one of after-revert, default, always, never, deviated");
                 }
                 s.rollback_strategy = it->second;
               }},
              {"max_fault_lifetime", false, "", [&](const ojson& x, const std::string& xp) {
                 if (auto d = DurationValue(x, xp, true)) {
                   if (*d > std::chrono::hours(24)) {
                     return Error(xp, x, "a duration greater than 0 and at most 24h");
                   }
                   s.max_fault_lifetime = *d;
                 }
               }}});
}

}  // namespace ringfence::internal
