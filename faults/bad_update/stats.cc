#include "faults/bad_update/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ringfence {
namespace {

double LogChoose(int n, int k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

// Doubled mid-ranks (integers) of the pooled sample: x first, then y.
std::vector<int> DoubledMidRanks(const std::vector<double>& pooled) {
  const size_t n = pooled.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return pooled[a] < pooled[b]; });
  std::vector<int> ranks(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && pooled[order[j + 1]] == pooled[order[i]]) ++j;
    // Ranks i+1 .. j+1 share their mean; doubled: (i + 1) + (j + 1).
    const int doubled = static_cast<int>(i + j + 2);
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = doubled;
    i = j + 1;
  }
  return ranks;
}

}  // namespace

MannWhitneyResult MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y,
                               Alternative alternative) {
  MannWhitneyResult result;
  const int n1 = static_cast<int>(x.size());
  const int n2 = static_cast<int>(y.size());
  if (n1 == 0 || n2 == 0) return result;
  std::vector<double> pooled = x;
  pooled.insert(pooled.end(), y.begin(), y.end());
  const std::vector<int> ranks = DoubledMidRanks(pooled);
  int observed = 0;  // doubled rank sum of x
  for (int i = 0; i < n1; ++i) observed += ranks[i];
  result.u = observed / 2.0 - n1 * (n1 + 1) / 2.0;
  result.effect = result.u / (static_cast<double>(n1) * n2);

  // count[k][s]: how many k-subsets of the items seen so far have doubled rank sum s. Doubles:
  // exact up to 2^53, within rounding beyond (C(60, 30) ≈ 1.2e17).
  const int max_sum = std::accumulate(ranks.begin(), ranks.end(), 0);
  std::vector<std::vector<double>> count(n1 + 1, std::vector<double>(max_sum + 1, 0.0));
  count[0][0] = 1.0;
  for (size_t item = 0; item < ranks.size(); ++item) {
    const int r = ranks[item];
    for (int k = std::min<int>(n1, static_cast<int>(item) + 1); k >= 1; --k) {
      auto& row = count[k];
      const auto& prev = count[k - 1];
      for (int s = max_sum; s >= r; --s) row[s] += prev[s - r];
    }
  }
  const double log_total = LogChoose(n1 + n2, n1);
  double upper = 0, lower = 0;  // P(W ≥ observed), P(W ≤ observed)
  for (int s = 0; s <= max_sum; ++s) {
    const double c = count[n1][s];
    if (c == 0) continue;
    const double p = std::exp(std::log(c) - log_total);
    if (s >= observed) upper += p;
    if (s <= observed) lower += p;
  }
  switch (alternative) {
    case Alternative::kGreater:
      result.p_value = upper;
      break;
    case Alternative::kLess:
      result.p_value = lower;
      break;
    case Alternative::kTwoSided:
      result.p_value = 2 * std::min(upper, lower);
      break;
  }
  result.p_value = std::clamp(result.p_value, 0.0, 1.0);
  return result;
}

double FisherExact(int a, int b, int c, int d, Alternative alternative) {
  if (a < 0 || b < 0 || c < 0 || d < 0) return 1.0;
  const int row1 = a + b, row2 = c + d, col1 = a + c, n = a + b + c + d;
  if (n == 0) return 1.0;
  const int lo = std::max(0, col1 - row2), hi = std::min(row1, col1);
  const double log_denominator = LogChoose(n, col1);
  auto prob = [&](int k) {
    return std::exp(LogChoose(row1, k) + LogChoose(row2, col1 - k) - log_denominator);
  };
  double p = 0;
  switch (alternative) {
    case Alternative::kGreater:
      for (int k = a; k <= hi; ++k) p += prob(k);
      break;
    case Alternative::kLess:
      for (int k = lo; k <= a; ++k) p += prob(k);
      break;
    case Alternative::kTwoSided: {
      const double observed = prob(a);
      // The same relative tolerance as R and SciPy, so that tables as likely as the observed
      // one are not lost to rounding.
      for (int k = lo; k <= hi; ++k) {
        const double pk = prob(k);
        if (pk <= observed * (1 + 1e-7)) p += pk;
      }
      break;
    }
  }
  return std::clamp(p, 0.0, 1.0);
}

}  // namespace ringfence
