// The report's timeline (report/timeline.h): one SVG, one time axis, rows from top to bottom.
#include "report/timeline.h"

#include <algorithm>
#include <cmath>

#include "report/downsample.h"
#include "report/markup.h"
#include "report/run_facts.h"
#include "report/svg.h"

namespace ringfence {

namespace {

constexpr double kWidth = 1000;
constexpr double kGutter = 180;  // labels left of the plot
constexpr double kRight = 15;
constexpr double kAxisHeight = 28;
constexpr double kRowHeight = 22;
constexpr double kChartHeight = 96;
constexpr double kStripHeight = 8;
constexpr double kChartGap = 26;
constexpr size_t kLabelChars = 26;

// Seconds on the run's axis to x.
class Axis {
 public:
  explicit Axis(double span_s) : span_(span_s > 0 ? span_s : 1) {}
  double X(double t) const {
    const double clamped = std::clamp(t, 0.0, span_);
    return kGutter + clamped / span_ * (kWidth - kGutter - kRight);
  }
  double span() const { return span_; }
  // A round step for about six ticks: 1, 2 or 5 × 10^k seconds.
  double Step() const {
    const double raw = span_ / 6;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * power >= raw) return m * power;
    }
    return 10 * power;
  }

 private:
  double span_;
};

std::string TickLabel(double t, double step) {
  if (step >= 60 && std::fmod(t, 60) < 1e-9) {
    return t >= 3600 ? Fixed(t / 3600, 2) + " h" : Fixed(t / 60, 1) + " min";
  }
  return Fixed(t, step < 1 ? 2 : 0) + " s";
}

class TimelineBuilder {
 public:
  explicit TimelineBuilder(const JournalModel& run) : run_(run), axis_(run.span_s()) {}

  std::string Build() {
    const double height = Height();
    Svg svg(kWidth, height, "timeline",
            "Timeline of the run: method steps, steady state, fault windows and guard samples on "
            "one time axis");
    svg_ = &svg;
    y_ = kAxisHeight;
    TimeAxis(height);
    MethodRow();
    SteadyStateRow();
    FaultRows();
    GuardCharts();
    Markers(height);
    return svg.Finish();
  }

 private:
  size_t FaultRowCount() const {
    size_t rows = 0;
    for (const auto& f : run_.faults) rows += std::max<size_t>(1, f.targets.size());
    return rows;
  }

  double Height() const {
    return kAxisHeight + 2 * kRowHeight + static_cast<double>(FaultRowCount()) * kRowHeight +
           static_cast<double>(run_.guards.size()) * (kChartHeight + kStripHeight + kChartGap) + 14;
  }

  void TimeAxis(double height) {
    svg_->OpenGroup("axis");
    const double step = axis_.Step();
    for (double t = 0; t <= axis_.span() + 1e-9; t += step) {
      const double x = axis_.X(t);
      svg_->Line(x, kAxisHeight - 6, x, height - 4, "grid");
      svg_->Text(x, kAxisHeight - 10, TickLabel(t, step), "tick", "middle");
    }
    svg_->Text(4, kAxisHeight - 10, "time since start", "tick");
    svg_->CloseGroup();
  }

  void RowLabel(const std::string& text, double y, double h) {
    svg_->Text(6, y + h / 2 + 4, Shorten(text, kLabelChars), "row-label");
  }

  void MethodRow() {
    RowLabel("method", y_, kRowHeight);
    svg_->OpenGroup("method-row");
    for (const auto& m : run_.method) {
      if (!m.t) continue;
      const double x = axis_.X(*m.t);
      if (m.probe) {
        svg_->Line(x, y_ + 3, x, y_ + kRowHeight - 3,
                   std::string("tick-mark probe ") + (m.probe->met ? "pass" : "fail"),
                   "step " + std::to_string(m.step) + ": probe " + m.probe->name + " " +
                       (m.probe->met ? "met" : "NOT met") + " at " + AtText(m.t));
      } else {
        svg_->Line(x, y_ + 3, x, y_ + kRowHeight - 3, "tick-mark wait",
                   "step " + std::to_string(m.step) + ": wait " + m.wait + " from " + AtText(m.t));
      }
    }
    for (const auto& f : run_.faults) {  // a fault step starts where its first target was hit
      for (const auto& t : f.targets) {
        if (!t.injected_t) continue;
        svg_->Line(axis_.X(*t.injected_t), y_ + 3, axis_.X(*t.injected_t), y_ + kRowHeight - 3,
                   "tick-mark fault-start", "fault " + f.name + " injected");
        break;
      }
    }
    svg_->CloseGroup();
    y_ += kRowHeight;
  }

  void SteadyMark(const std::vector<ProbeView>& probes, double t, const std::string& when) {
    bool met = true;
    for (const auto& p : probes) met = met && p.met;
    const std::string title = "steady state " + when + ": " + (met ? "held" : "NOT held") + " (" +
                              std::to_string(probes.size()) + " probes)";
    const double x = axis_.X(t);
    const double cy = y_ + kRowHeight / 2;
    svg_->Circle(x, cy, 6, std::string("steady-mark ") + (met ? "pass" : "fail"), title);
    svg_->Text(x + (when == "before" ? 9 : -9), cy + 4, when + (met ? " ✓" : " ✗"), "mark-label",
               when == "before" ? "start" : "end");
  }

  void SteadyStateRow() {
    RowLabel("steady state", y_, kRowHeight);
    svg_->OpenGroup("steady-row");
    if (!run_.before.empty()) SteadyMark(run_.before, run_.before_t.value_or(0), "before");
    if (run_.after && !run_.after->empty()) {
      SteadyMark(*run_.after, run_.after_t.value_or(axis_.span()), "after");
    }
    svg_->CloseGroup();
    y_ += kRowHeight;
  }

  void FaultRows() {
    for (const auto& f : run_.faults) {
      if (f.targets.empty()) {
        RowLabel(f.name + " (no target)", y_, kRowHeight);
        y_ += kRowHeight;
        continue;
      }
      for (const auto& t : f.targets) FaultBar(f, t);
    }
  }

  void FaultBar(const FaultView& f, const TargetView& t) {
    RowLabel(f.name + " · " + (t.label.empty() ? f.target : t.label), y_, kRowHeight);
    if (t.injected_t) {
      const bool reverted = t.reverted_t.has_value() && t.revert_ok;
      const double x0 = axis_.X(*t.injected_t);
      const double x1 = std::max(x0 + 2, axis_.X(t.reverted_t.value_or(axis_.span())));
      const std::string state = !t.inject_ok ? "inject-failed" : reverted ? "reverted" : "failed";
      const std::string title =
          f.name + " (" + f.type + ") on " + t.label + ": injected " + AtText(t.injected_t) +
          (reverted ? ", reverted " + AtText(t.reverted_t) + " (active " + ActiveFor(t) + ")"
                    : ", NOT reverted");
      svg_->Rect(x0, y_ + 4, x1 - x0, kRowHeight - 8, "fault-bar " + state, title,
                 {{"data-fault", f.name}, {"data-target", t.label}});
    }
    y_ += kRowHeight;
  }

  // The lines a guard's chart draws across: absolute bounds, bounds relative to the baseline,
  // and the baseline itself.
  struct Level {
    double value;
    std::string css, label;
  };
  std::vector<Level> Levels(const GuardView& g) const {
    std::vector<Level> levels;
    auto number = [&](const char* key) -> std::optional<double> {
      if (g.condition.contains(key) && g.condition[key].is_number())
        return g.condition[key].get<double>();
      return std::nullopt;
    };
    if (auto v = number("min")) levels.push_back({*v, "threshold", "min " + Figure(*v)});
    if (auto v = number("max")) levels.push_back({*v, "threshold", "max " + Figure(*v)});
    if (g.baseline) {
      levels.push_back({*g.baseline, "baseline", "baseline " + Figure(*g.baseline)});
      if (auto r = number("min_vs_baseline"))
        levels.push_back({*r * *g.baseline, "threshold", Figure(*r) + "× baseline"});
      if (auto r = number("max_vs_baseline"))
        levels.push_back({*r * *g.baseline, "threshold", Figure(*r) + "× baseline"});
    }
    return levels;
  }

  void GuardCharts() {
    const size_t buckets = static_cast<size_t>(kWidth - kGutter - kRight);
    for (const auto& g : run_.guards) {
      y_ += kChartGap - 6;
      const DrawnSamples drawn = DrawSamples(g.samples, axis_.span(), buckets, 2000);
      GuardChart(g, drawn);
      y_ += kChartHeight;
      StateStrip(g, drawn);
      y_ += kStripHeight + 6;
    }
  }

  void GuardChart(const GuardView& g, const DrawnSamples& drawn) {
    const std::vector<Level> levels = Levels(g);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i : drawn.line) {
      lo = std::min(lo, *g.samples[i].value);
      hi = std::max(hi, *g.samples[i].value);
    }
    for (const auto& l : levels) {
      lo = std::min(lo, l.value);
      hi = std::max(hi, l.value);
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 1, hi += 1;
    const double pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
    const double top = y_, bottom = y_ + kChartHeight;
    auto Y = [&](double v) { return bottom - (v - lo) / (hi - lo) * kChartHeight; };

    svg_->OpenGroup("guard-chart", {{"data-guard", g.name},
                                    {"data-samples", std::to_string(g.samples.size())},
                                    {"data-drawn", std::to_string(drawn.line.size())},
                                    {"data-downsampled", drawn.downsampled ? "yes" : "no"}});
    svg_->Text(6, top + 12, Shorten("guard " + g.name, kLabelChars), "row-label strong");
    svg_->Text(6, top + 27, g.breached ? "breached" : "held",
               g.breached ? "fail-text" : "pass-text");
    svg_->Text(6, top + 42,
               std::to_string(g.samples.size()) + (g.samples.size() == 1 ? " sample" : " samples") +
                   (drawn.downsampled ? ", " + std::to_string(drawn.line.size()) + " drawn" : ""),
               "tick");
    svg_->Rect(kGutter, top, kWidth - kGutter - kRight, kChartHeight, "chart-frame");
    svg_->Text(kGutter + 3, top + 10, Figure(hi), "tick");
    svg_->Text(kGutter + 3, bottom - 3, Figure(lo), "tick");
    for (const auto& l : levels) {
      svg_->Line(kGutter, Y(l.value), kWidth - kRight, Y(l.value), l.css, l.label);
      svg_->Text(kWidth - kRight - 2, Y(l.value) - 3, l.label, "level-label", "end");
    }
    std::vector<std::pair<double, double>> points;
    points.reserve(drawn.line.size());
    for (size_t i : drawn.line)
      points.emplace_back(axis_.X(g.samples[i].t), Y(*g.samples[i].value));
    svg_->Polyline(points, "series", {{"data-points", std::to_string(points.size())}});
    for (size_t i : drawn.line) {
      const SampleView& s = g.samples[i];
      if (s.verdict == "ok") continue;
      svg_->Circle(axis_.X(s.t), Y(*s.value), s.verdict == "breach" ? 3.2 : 2.4,
                   "point v-" + s.verdict,
                   s.verdict + " " + Figure(*s.value) + " at " + AtText(s.t) +
                       (s.detail.empty() ? "" : ": " + s.detail));
    }
    svg_->CloseGroup();
  }

  void StateStrip(const GuardView& g, const DrawnSamples& drawn) {
    svg_->OpenGroup("state-strip", {{"data-guard", g.name}});
    for (const auto& span : drawn.strip) {
      const double x0 = axis_.X(span.t0), x1 = std::max(x0 + 1.5, axis_.X(span.t1));
      svg_->Rect(x0, y_ + 1, x1 - x0, kStripHeight - 2, "state v-" + span.verdict,
                 std::to_string(span.samples) + " " + span.verdict + " sample" +
                     (span.samples == 1 ? "" : "s") + " from " + AtText(span.t0));
    }
    svg_->CloseGroup();
  }

  // `raised`: the label one line higher, so that an abort's and the all-reverted label (often
  // a fraction of a second apart) do not print over each other.
  void Marker(double t, double height, const std::string& css, const std::string& label,
              bool raised = false) {
    const double x = axis_.X(t);
    svg_->Line(x, kAxisHeight, x, height - 4, "marker " + css, label + " at " + AtText(t));
    const bool near_right = x > kWidth - 120;  // the label goes left of the line there
    svg_->Text(near_right ? x - 3 : x + 3, height - (raised ? 18 : 6), label, "marker-label " + css,
               near_right ? "end" : "start");
  }

  void Markers(double height) {
    svg_->OpenGroup("markers");
    if (run_.abort) {
      if (run_.abort->detected_t) {
        Marker(*run_.abort->detected_t, height, "abort", "abort", true);
      }
      if (run_.abort->requested_t && run_.abort->by_operator()) {
        Marker(*run_.abort->requested_t, height, "abort", "operator abort", true);
      }
      if (run_.abort->all_reverted_t) {
        Marker(*run_.abort->all_reverted_t, height, "all-reverted", "all reverted");
      }
    } else {
      // Without an abort, every fault was reverted when its last target was.
      std::optional<double> last;
      bool all = !run_.faults.empty();
      for (const auto& f : run_.faults) {
        for (const auto& t : f.targets) {
          if (!t.has_undo) continue;
          if (!t.reverted_t || !t.revert_ok) all = false;
          if (t.reverted_t) last = std::max(last.value_or(0), *t.reverted_t);
        }
      }
      if (all && last) Marker(*last, height, "all-reverted", "all reverted");
    }
    svg_->CloseGroup();
  }

  const JournalModel& run_;
  Axis axis_;
  Svg* svg_ = nullptr;
  double y_ = 0;
};

}  // namespace

std::string RenderTimeline(const JournalModel& run) { return TimelineBuilder(run).Build(); }

}  // namespace ringfence
