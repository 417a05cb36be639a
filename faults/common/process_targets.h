#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/fault/fault.h"
#include "core/model/experiment.h"

namespace ringfence {

// Shared by the process faults' Prepare(): every target must be signallable now (signal 0
// through the table, which also checks start_ticks), and none may be PID 1 or the runner itself
// (target resolution already excludes them; this is a second line of defence).
// Errors: kInvalidInput "pid 1 (init): refusing to signal PID 1" / "...: refusing to signal the
// runner itself", or the table's error (kNotFound, kPermission) for the first failing target.
Status CheckTargetsSignallable(ProcessTable& processes, const std::vector<Target>& targets);

// A ProcessSelector as plain data for undo records: {"pid"|"pidfile"|"name"|"cmdline": …,
// "user"?: …} with only the members that are set.
nlohmann::json SelectorToJson(const ProcessSelector& selector);
// kInvalidInput "undo record has no valid selector: <json>" when `j` is not such an object.
Result<ProcessSelector> SelectorFromJson(const nlohmann::json& j);

// Milliseconds since the Unix epoch.
long long EpochMs(std::chrono::system_clock::time_point t);

}  // namespace ringfence
