#pragma once

#include <string>

#include "core/base/validation.h"
#include "core/model/experiment.h"

namespace ringfence {

// Keeps the part of `experiment`'s method from the step named `from` to the step named `to`
// (both included; "" is the first / the last step). Steps are named as MethodStep::name says;
// when two steps share a name the first counts. Faults of dropped steps are never resolved or
// injected. On a name that is no step's, or `to` before `from`, `errors` gets one error each at
// /method naming every step, and `experiment` is left as it was. Returns whether it kept them.
bool SelectMethodRange(Experiment& experiment, const std::string& from, const std::string& to,
                       ValidationErrors& errors);

// "--from a --to b", "--from a", "--to b", or "" for the whole method.
std::string MethodRangeText(const std::string& from, const std::string& to);

}  // namespace ringfence
