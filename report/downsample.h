#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "report/journal_model.h"

namespace ringfence {

// What a guard's chart draws of its samples, bounded whatever the run's length.
struct DrawnSamples {
  // Indices into the samples that the line goes through, in time order: every sample when there
  // are at most `max_points`; else, per time bucket, the first, the lowest, the highest and the
  // last valued sample, and every breach's extreme.
  std::vector<size_t> line;
  // The state strip under the chart: runs of buckets with the same worst verdict (breach >
  // error > no_data > warming_up > ok). Every non-ok sample makes its bucket non-ok, so none
  // is ever lost to downsampling.
  struct Span {
    double t0 = 0, t1 = 0;
    std::string verdict;
    size_t samples = 0;  // how many samples of that verdict fall in it
  };
  std::vector<Span> strip;
  bool downsampled = false;
};

// `buckets`: the strip's resolution (about one per horizontal pixel); `span_s`: the time axis.
DrawnSamples DrawSamples(const std::vector<SampleView>& samples, double span_s, size_t buckets,
                         size_t max_points);

// Verdict order for "worst": breach 4, error 3, no_data 2, warming_up 1, ok 0 (unknown: 3).
int VerdictRank(const std::string& verdict);

}  // namespace ringfence
