#pragma once

// Shared by the bench programs: the figures they print.

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ringfence::bench {

// The q-quantile (nearest rank) of `values`; `values` must not be empty.
inline double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// The 1-minute load average, printed with every figure (a shared machine skews them); -1 when
// it cannot be read.
inline double LoadAverage() {
  double load[3] = {0, 0, 0};
  return ::getloadavg(load, 3) < 0 ? -1 : load[0];
}

}  // namespace ringfence::bench
