#include "faults/bad_update/stats.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

// The permutation distribution by brute force: every way to pick n1 of the pooled values as x.
double BruteForceUpperTail(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> pooled = x;
  pooled.insert(pooled.end(), y.begin(), y.end());
  const size_t n = pooled.size(), n1 = x.size();
  auto u_of = [&](unsigned mask) {
    double u = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!(mask & (1u << i))) continue;
      for (size_t j = 0; j < n; ++j) {
        if (mask & (1u << j)) continue;
        u += pooled[i] > pooled[j] ? 1 : pooled[i] == pooled[j] ? 0.5 : 0;
      }
    }
    return u;
  };
  const double observed = u_of((1u << n1) - 1);
  int total = 0, extreme = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<size_t>(__builtin_popcount(mask)) != n1) continue;
    ++total;
    if (u_of(mask) >= observed - 1e-9) ++extreme;
  }
  return static_cast<double>(extreme) / total;
}

TEST(MannWhitneyUTest, CompleteSeparationOfFiveAndFive) {
  // Every ordering of 10 values into 5 + 5 is one of C(10, 5) = 252; full separation is 1 of them.
  auto r = MannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, Alternative::kLess);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 1.0 / 252, 1e-12);
  EXPECT_DOUBLE_EQ(r.effect, 0);
  auto two = MannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, Alternative::kTwoSided);
  EXPECT_NEAR(two.p_value, 0.0079365, 1e-6);  // SciPy mannwhitneyu(method="exact")
  auto greater = MannWhitneyU({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}, Alternative::kGreater);
  EXPECT_DOUBLE_EQ(greater.u, 25);
  EXPECT_NEAR(greater.p_value, 1.0 / 252, 1e-12);
}

TEST(MannWhitneyUTest, MatchesThePublishedTableForFiveAndFive) {
  // Published tables of the exact null distribution, n1 = n2 = 5: P(U ≤ 4) = 0.0476 (the
  // one-sided 5 % critical value is U = 4) and P(U ≤ 5) = 0.0754.
  auto u4 = MannWhitneyU({1, 2, 3, 4, 8.5}, {5, 6, 7, 8, 9}, Alternative::kLess);
  EXPECT_DOUBLE_EQ(u4.u, 4);
  EXPECT_NEAR(u4.p_value, 0.0476, 5e-5);
  auto u5 = MannWhitneyU({1, 2, 3, 4, 9.5}, {5, 6, 7, 8, 9}, Alternative::kLess);
  EXPECT_DOUBLE_EQ(u5.u, 5);
  EXPECT_NEAR(u5.p_value, 0.0754, 5e-5);
}

TEST(MannWhitneyUTest, OneCanaryAgainstNineteenBaselines) {
  // The smallest p-value one host can reach against 19 is 1/20.
  std::vector<double> baseline;
  for (int i = 0; i < 19; ++i) baseline.push_back(i);
  auto r = MannWhitneyU({100}, baseline, Alternative::kGreater);
  EXPECT_NEAR(r.p_value, 1.0 / 20, 1e-12);
}

TEST(MannWhitneyUTest, TiesUseTheExactPermutationDistribution) {
  const std::vector<double> x = {2, 3, 3, 5, 5}, y = {1, 2, 2, 3, 4, 5};
  auto r = MannWhitneyU(x, y, Alternative::kGreater);
  EXPECT_NEAR(r.p_value, BruteForceUpperTail(x, y), 1e-12);
  const std::vector<double> same = {1, 1, 1};
  EXPECT_NEAR(MannWhitneyU(same, same, Alternative::kGreater).p_value, 1.0, 1e-12);
}

TEST(MannWhitneyUTest, EmptySampleIsNoEvidence) {
  EXPECT_DOUBLE_EQ(MannWhitneyU({}, {1, 2}, Alternative::kGreater).p_value, 1.0);
}

TEST(FisherExactTest, LadyTastingTea) {
  // Fisher's own example: 3 of 4 cups right each way; one-sided p = 17/70.
  EXPECT_NEAR(FisherExact(3, 1, 1, 3, Alternative::kGreater), 17.0 / 70, 1e-12);
  EXPECT_NEAR(FisherExact(3, 1, 1, 3, Alternative::kTwoSided), 34.0 / 70, 1e-12);
}

TEST(FisherExactTest, DietingExample) {
  // The textbook table (1, 9 / 11, 3): the table itself has probability 0.001346; one-sided
  // p = 0.0013797 (with the one more extreme table), two-sided p = 0.002759 (R, SciPy).
  EXPECT_NEAR(FisherExact(1, 9, 11, 3, Alternative::kLess), 0.0013797, 1e-7);
  EXPECT_NEAR(FisherExact(1, 9, 11, 3, Alternative::kTwoSided), 0.002759, 1e-6);
}

TEST(FisherExactTest, OneUnhealthyCanaryAgainstNineteenHealthy) {
  EXPECT_NEAR(FisherExact(1, 0, 0, 19, Alternative::kGreater), 1.0 / 20, 1e-12);
  EXPECT_NEAR(FisherExact(2, 0, 0, 18, Alternative::kGreater), 1.0 / 190, 1e-12);
  EXPECT_DOUBLE_EQ(FisherExact(0, 0, 0, 0, Alternative::kGreater), 1.0);
}

}  // namespace
}  // namespace ringfence
