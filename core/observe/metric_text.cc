#include "core/observe/metric_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace ringfence {

namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : line_(line) {}

  void SkipBlanks() {
    while (pos_ < line_.size() && IsBlank(line_[pos_])) ++pos_;
  }
  bool AtEnd() const { return pos_ >= line_.size(); }
  bool Peek(char c) const { return pos_ < line_.size() && line_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  // A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), or "" when there is none here. Label names use
  // the same reader (a ':' in one is tolerated).
  std::string Name() {
    const size_t start = pos_;
    if (pos_ < line_.size() && IsNameStart(line_[pos_])) {
      while (pos_ < line_.size() && IsNameChar(line_[pos_])) ++pos_;
    }
    return std::string(line_.substr(start, pos_ - start));
  }
  // A quoted label value with \\, \" and \n escapes; nullopt when unterminated.
  std::optional<std::string> Quoted() {
    if (!Take('"')) return std::nullopt;
    std::string out;
    while (pos_ < line_.size()) {
      const char c = line_[pos_++];
      if (c == '"') return out;
      if (c == '\\' && pos_ < line_.size()) {
        const char e = line_[pos_++];
        out += e == 'n' ? '\n' : e;  // \\ and \" stand for themselves
      } else {
        out += c;
      }
    }
    return std::nullopt;
  }
  std::string_view Token() {
    const size_t start = pos_;
    while (pos_ < line_.size() && !IsBlank(line_[pos_])) ++pos_;
    return line_.substr(start, pos_ - start);
  }
  std::string_view Rest() const { return line_.substr(std::min(pos_, line_.size())); }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

std::optional<double> ParseFloat(std::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status LineError(size_t number, const std::string& what) {
  return Status::InvalidInput("line " + std::to_string(number) + ": " + what);
}

}  // namespace

std::string MetricExposition::TypeOf(const std::string& sample_name) const {
  if (auto it = types.find(sample_name); it != types.end()) return it->second;
  for (const char* suffix : {"_bucket", "_sum", "_count", "_total", "_created"}) {
    const std::string s = suffix;
    if (sample_name.size() > s.size() &&
        sample_name.compare(sample_name.size() - s.size(), s.size(), s) == 0) {
      if (auto it = types.find(sample_name.substr(0, sample_name.size() - s.size()));
          it != types.end()) {
        return it->second;
      }
    }
  }
  return "";
}

Result<MetricExposition> ParseMetricText(std::string_view text) {
  MetricExposition out;
  size_t number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineReader r(line);
    r.SkipBlanks();
    if (r.AtEnd()) continue;
    if (r.Take('#')) {
      r.SkipBlanks();
      const std::string_view keyword = r.Token();
      if (keyword != "TYPE") continue;  // HELP and other comments carry nothing we use
      r.SkipBlanks();
      const std::string name = r.Name();
      r.SkipBlanks();
      const std::string type(r.Token());
      static const std::vector<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                      "untyped"};
      if (name.empty()) return LineError(number, "a TYPE line without a metric name");
      if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
        return LineError(number, "unknown metric type \"" + type + "\"");
      }
      out.types[name] = type;
      continue;
    }
    MetricSample sample;
    sample.name = r.Name();
    if (sample.name.empty()) return LineError(number, "expected a metric name");
    r.SkipBlanks();
    if (r.Take('{')) {
      while (true) {
        r.SkipBlanks();
        if (r.Take('}')) break;
        const std::string label = r.Name();
        if (label.empty()) return LineError(number, "expected a label name or '}'");
        r.SkipBlanks();
        if (!r.Take('=')) return LineError(number, "expected '=' after label " + label);
        r.SkipBlanks();
        std::optional<std::string> value = r.Quoted();
        if (!value) return LineError(number, "expected a quoted value for label " + label);
        sample.labels[label] = std::move(*value);
        r.SkipBlanks();
        if (r.Take(',')) continue;
        if (r.Take('}')) break;
        return LineError(number, "expected ',' or '}' after label " + label);
      }
    }
    r.SkipBlanks();
    const std::string_view value_text = r.Token();
    std::optional<double> value = ParseFloat(value_text);
    if (!value) {
      return LineError(number, "expected a sample value, got \"" + std::string(value_text) + "\"");
    }
    sample.value = *value;
    r.SkipBlanks();
    if (!r.AtEnd()) {
      const std::string_view timestamp = r.Token();
      long long ms = 0;
      const auto [end, ec] =
          std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ms);
      r.SkipBlanks();
      if (ec != std::errc() || end != timestamp.data() + timestamp.size() || !r.AtEnd()) {
        return LineError(number,
                         "unexpected text after the value: \"" + std::string(timestamp) + "\"");
      }
    }
    out.samples.push_back(std::move(sample));
  }
  return out;
}

// ---- ScrapeWindow -----------------------------------------------------------------------------

void ScrapeWindow::Add(std::chrono::steady_clock::time_point at,
                       const MetricExposition& exposition) {
  Point point;
  point.at = at;
  auto matches = [this](const MetricSample& s) {
    for (const auto& [name, value] : query_.labels) {
      auto it = s.labels.find(name);
      if (it == s.labels.end() || it->second != value) return false;
    }
    return true;
  };
  const std::string type = exposition.TypeOf(query_.metric);
  switch (query_.stat) {
    case ScrapeQuery::Stat::kValue:
    case ScrapeQuery::Stat::kRate:
      if (query_.stat == ScrapeQuery::Stat::kRate && (type == "gauge" || type == "histogram")) {
        point.type_error = query_.metric + " is a " + type + "; stat rate needs a counter";
      }
      for (const auto& s : exposition.samples) {
        if (s.name == query_.metric && matches(s)) point.sum = point.sum.value_or(0) + s.value;
      }
      break;
    case ScrapeQuery::Stat::kQuantile: {
      if (!type.empty() && type != "histogram") {
        point.type_error = query_.metric + " is a " + type + "; stat quantile needs a histogram";
      }
      const std::string bucket = query_.metric + "_bucket";
      for (const auto& s : exposition.samples) {
        if (s.name != bucket || !matches(s)) continue;
        auto le = s.labels.find("le");
        if (le == s.labels.end()) continue;
        if (std::optional<double> bound = ParseFloat(le->second)) point.buckets[*bound] += s.value;
      }
      break;
    }
  }
  points_.push_back(std::move(point));
  // Keep the scrapes of the window and the one before it (the base when the window has no
  // other).
  const auto window_start = at - query_.window;
  while (points_.size() > 2 && points_[1].at <= window_start) points_.pop_front();
}

std::optional<size_t> ScrapeWindow::Base() const {
  if (points_.size() < 2) return std::nullopt;
  const auto window_start = points_.back().at - query_.window;
  for (size_t i = 0; i + 1 < points_.size(); ++i) {
    if (points_[i].at >= window_start) return i;
  }
  return points_.size() - 2;
}

SourceReading ScrapeWindow::Current() const {
  if (points_.empty()) return SourceReading::NoData("no scrape yet");
  const Point& newest = points_.back();
  if (!newest.type_error.empty()) return SourceReading::Error(newest.type_error);
  std::string selector = query_.metric;
  if (!query_.labels.empty()) {
    selector += "{";
    bool first = true;
    for (const auto& [name, value] : query_.labels) {
      selector += (first ? "" : ",") + name + "=\"" + value + "\"";
      first = false;
    }
    selector += "}";
  }
  switch (query_.stat) {
    case ScrapeQuery::Stat::kValue:
      if (!newest.sum) return SourceReading::NoData("no series " + selector);
      return SourceReading::Value(*newest.sum);
    case ScrapeQuery::Stat::kRate: {
      if (!newest.sum) return SourceReading::NoData("no series " + selector);
      const std::optional<size_t> base = Base();
      if (!base || points_[*base].at >= newest.at) {
        return SourceReading::NoData("a rate needs two scrapes");
      }
      double increase = 0;
      std::optional<double> previous;
      auto first_at = newest.at;
      for (size_t i = *base; i < points_.size(); ++i) {
        const std::optional<double>& sum = points_[i].sum;
        if (!sum) continue;
        if (previous) {
          increase += *sum >= *previous ? *sum - *previous : *sum;
        } else {
          first_at = points_[i].at;
        }
        previous = sum;
      }
      if (first_at >= newest.at) return SourceReading::NoData("a rate needs two scrapes");
      const double seconds = std::chrono::duration<double>(newest.at - first_at).count();
      return SourceReading::Value(increase / seconds);
    }
    case ScrapeQuery::Stat::kQuantile: {
      if (newest.buckets.empty()) return SourceReading::NoData("no histogram " + selector);
      const std::optional<size_t> base_index = Base();
      if (!base_index || points_[*base_index].at >= newest.at) {
        return SourceReading::NoData("a quantile over a window needs two scrapes");
      }
      const Point* base = &points_[*base_index];
      std::vector<std::pair<double, double>> buckets;
      bool reset = false;
      for (const auto& [le, count] : newest.buckets) {
        auto old = base->buckets.find(le);
        const double before = old == base->buckets.end() ? 0 : old->second;
        if (count < before) reset = true;
        buckets.emplace_back(le, count - before);
      }
      if (reset) buckets.assign(newest.buckets.begin(), newest.buckets.end());
      std::optional<double> q = HistogramQuantile(query_.quantile, buckets);
      if (!q) return SourceReading::NoData("no observations of " + selector + " in the window");
      return SourceReading::Value(*q);
    }
  }
  return SourceReading::Error("unknown stat");
}

std::optional<double> HistogramQuantile(double q,
                                        const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty() || !std::isinf(buckets.back().first)) return std::nullopt;
  const double total = buckets.back().second;
  if (!(total > 0)) return std::nullopt;
  const double rank = q * total;
  size_t i = 0;
  while (i < buckets.size() && buckets[i].second < rank) ++i;
  if (i >= buckets.size() - 1) {  // the +Inf bucket: the highest finite bound
    if (buckets.size() < 2) return std::nullopt;
    return buckets[buckets.size() - 2].first;
  }
  const double upper = buckets[i].first;
  if (i == 0 && upper <= 0) return upper;
  const double lower = i == 0 ? 0 : buckets[i - 1].first;
  const double below = i == 0 ? 0 : buckets[i - 1].second;
  const double in_bucket = buckets[i].second - below;
  if (in_bucket <= 0) return upper;
  return lower + (upper - lower) * (rank - below) / in_bucket;
}

}  // namespace ringfence
