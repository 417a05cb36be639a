#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/experiment.h"

namespace ringfence {

// What the operator wants before the next method step (docs/game-days.md).
enum class StepGate {
  kRun,   // run it now
  kSkip,  // do not run it (the journal's method log says who skipped it)
  kHold,  // not yet: the engine keeps serving fault ends and asks again shortly
};

// The people running a game day, as the engine sees them: asked between method steps, able to
// abort the run like a guard breach does (LifecycleEngine::RequestOperatorAbort). Implemented
// by the runner (keys on the terminal, the control API); the engine never knows where an answer
// came from. Called from the engine's thread only.
class OperatorControl {
 public:
  virtual ~OperatorControl() = default;
  // Before method step `index` of `count` (`step.name` names it). kHold is asked again every
  // 200 ms or so while faults already active keep their schedule; a hold longer than
  // settings.max_hold aborts the run. `*who` is set to who decided a kSkip.
  virtual StepGate BeforeStep(size_t index, size_t count, const MethodStep& step,
                              std::string* who) = 0;
  // Every operator action so far, oldest first: [{at, who, action, text?, step?}], copied into
  // the journal's `operator_actions` at each checkpoint.
  virtual nlohmann::json Actions() const = 0;
};

}  // namespace ringfence
