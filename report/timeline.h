#pragma once

#include <string>

#include "report/journal_model.h"

namespace ringfence {

// The run on one time axis, as one inline SVG: method steps and probes as ticks, steady state
// before/after as pass/fail marks, one bar per fault target (injected → reverted), one line chart
// per guard (`g.guard-chart`, with its thresholds, its baseline and a state strip under it that
// shows every non-ok sample), and the abort and all-reverted instants as vertical lines.
std::string RenderTimeline(const JournalModel& run);

}  // namespace ringfence
