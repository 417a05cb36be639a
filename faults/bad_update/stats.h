#pragma once

#include <vector>

namespace ringfence {

// Exact two-sample tests for small samples, as the bad_update gates use them: a handful of
// canary hosts against a baseline of untouched hosts. Pure functions; thread-safe.

enum class Alternative {
  kGreater,  // the first sample tends to be larger (e.g. the exposed hosts are slower)
  kLess,     // the first sample tends to be smaller
  kTwoSided,
};

struct MannWhitneyResult {
  double u = 0;         // U of the first sample: pairs (x, y) with x > y, ties counting 1/2
  double p_value = 1;   // exact, from the permutation distribution of the rank sum
  double effect = 0.5;  // U / (n1 × n2): the probability that an x exceeds a y
};

// The exact Mann-Whitney U test of `x` against `y`. Ties get mid-ranks and the p-value comes
// from the exact permutation distribution of those ranks (so it stays exact with ties). Two-sided
// is twice the smaller tail, at most 1. Empty samples give p = 1. The cost is about
// (n1 + n2)^3 × n1 / 2 steps: callers keep samples small (a few dozen each).
MannWhitneyResult MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y,
                               Alternative alternative);

// Fisher's exact test on the 2×2 table
//             event   no event
//   group 1     a        b
//   group 2     c        d
// kGreater: group 1 has the larger proportion of events (P of tables with a' ≥ a, margins
// fixed); kLess: a' ≤ a; kTwoSided: the sum over tables no more likely than the observed one.
// All counts ≥ 0; an empty table gives p = 1.
double FisherExact(int a, int b, int c, int d, Alternative alternative);

}  // namespace ringfence
