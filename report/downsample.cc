#include "report/downsample.h"

#include <algorithm>

namespace ringfence {

int VerdictRank(const std::string& verdict) {
  if (verdict == "ok") return 0;
  if (verdict == "warming_up") return 1;
  if (verdict == "no_data") return 2;
  if (verdict == "breach") return 4;
  return 3;  // error, or a verdict this reader does not know
}

namespace {

size_t BucketOf(double t, double span_s, size_t buckets) {
  if (span_s <= 0 || t <= 0) return 0;
  const double b = t / span_s * static_cast<double>(buckets);
  return std::min(buckets - 1, static_cast<size_t>(b));
}

std::vector<size_t> LineIndices(const std::vector<SampleView>& samples, double span_s,
                                size_t buckets, size_t max_points, bool* downsampled) {
  std::vector<size_t> line;
  size_t valued = 0;
  for (const auto& s : samples) valued += s.value.has_value();
  if (valued <= max_points) {
    for (size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].value) line.push_back(i);
    }
    return line;
  }
  *downsampled = true;
  const size_t n = std::max<size_t>(1, std::min(buckets, max_points / 4));
  struct Pick {
    long first = -1, low = -1, high = -1, last = -1, breach_low = -1, breach_high = -1;
  };
  std::vector<Pick> picks(n);
  auto lower = [&](long a, size_t i) { return a < 0 || *samples[i].value < *samples[a].value; };
  auto higher = [&](long a, size_t i) { return a < 0 || *samples[i].value > *samples[a].value; };
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!samples[i].value) continue;
    Pick& p = picks[BucketOf(samples[i].t, span_s, n)];
    const long at = static_cast<long>(i);
    if (p.first < 0) p.first = at;
    p.last = at;
    if (lower(p.low, i)) p.low = at;
    if (higher(p.high, i)) p.high = at;
    if (samples[i].verdict == "breach") {
      if (lower(p.breach_low, i)) p.breach_low = at;
      if (higher(p.breach_high, i)) p.breach_high = at;
    }
  }
  for (const Pick& p : picks) {
    for (long i : {p.first, p.low, p.high, p.last, p.breach_low, p.breach_high}) {
      if (i >= 0) line.push_back(static_cast<size_t>(i));
    }
  }
  std::sort(line.begin(), line.end());
  line.erase(std::unique(line.begin(), line.end()), line.end());
  return line;
}

std::vector<DrawnSamples::Span> Strip(const std::vector<SampleView>& samples, double span_s,
                                      size_t buckets) {
  struct Cell {
    int rank = -1;
    std::string verdict;
    size_t count = 0;
  };
  std::vector<Cell> cells(buckets);
  // A sample stands for the time until the next one (at most a few typical intervals: a longer
  // gap in sampling stays empty), so a sparse guard still draws a continuous strip.
  std::vector<double> gaps;
  for (size_t i = 1; i < samples.size(); ++i) gaps.push_back(samples[i].t - samples[i - 1].t);
  double typical = 0;
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
    typical = std::max(0.0, gaps[gaps.size() / 2]);
  }
  if (typical <= 0) typical = span_s / 200;  // one sample: a visible cell
  for (size_t i = 0; i < samples.size(); ++i) {
    const SampleView& s = samples[i];
    const double next = i + 1 < samples.size() ? samples[i + 1].t : s.t + typical;
    const double until = std::min(next, s.t + 3 * typical);
    const size_t first = BucketOf(s.t, span_s, buckets);
    const size_t last = std::max(first, until > s.t ? BucketOf(until, span_s, buckets) : first);
    const int rank = VerdictRank(s.verdict);
    for (size_t b = first; b <= last && b < buckets; ++b) {
      Cell& c = cells[b];
      if (rank > c.rank) {
        c.rank = rank;
        c.verdict = s.verdict;
        c.count = 0;
      }
      if (rank == c.rank && b == first) ++c.count;
    }
  }
  std::vector<DrawnSamples::Span> strip;
  const double width = span_s / static_cast<double>(buckets);
  for (size_t b = 0; b < buckets; ++b) {
    const Cell& c = cells[b];
    if (c.rank < 0) continue;
    const double t0 = static_cast<double>(b) * width;
    if (!strip.empty() && strip.back().verdict == c.verdict && strip.back().t1 >= t0 - 1e-9) {
      strip.back().t1 = t0 + width;
      strip.back().samples += c.count;
    } else {
      strip.push_back({t0, t0 + width, c.verdict, c.count});
    }
  }
  return strip;
}

}  // namespace

DrawnSamples DrawSamples(const std::vector<SampleView>& samples, double span_s, size_t buckets,
                         size_t max_points) {
  DrawnSamples drawn;
  buckets = std::max<size_t>(1, buckets);
  drawn.line = LineIndices(samples, span_s, buckets, max_points, &drawn.downsampled);
  drawn.strip = Strip(samples, span_s, buckets);
  return drawn;
}

}  // namespace ringfence
