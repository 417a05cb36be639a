#pragma once

#include "core/base/clock.h"

namespace ringfence {

// The real clock: std::chrono's system and steady clocks. Thread-safe.
Clock& SystemClock();

}  // namespace ringfence
