// The plain-data parts of guards (what the journal shows); the sampling lives in guards.cc.
#include <cmath>
#include <cstdio>

#include "core/observe/guards.h"

namespace ringfence {

namespace {
std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
const char* VerdictName(GuardSample::Verdict v) {
  switch (v) {
    case GuardSample::Verdict::kOk:
      return "ok";
    case GuardSample::Verdict::kBreach:
      return "breach";
    case GuardSample::Verdict::kNoData:
      return "no_data";
    case GuardSample::Verdict::kError:
      return "error";
    case GuardSample::Verdict::kWarmingUp:
      return "warming_up";
  }
  return "error";
}
}  // namespace

std::string GuardSpec::ThresholdText(std::optional<double> baseline) const {
  std::string out;
  auto bound = [&](const char* op, std::optional<double> abs, std::optional<double> rel) {
    if (abs) out += (out.empty() ? "" : " and ") + std::string(op) + " " + Number(*abs);
    if (rel) {
      out += (out.empty() ? "" : " and ") + std::string(op) + " " + Number(*rel) + " × baseline";
      if (baseline) out += " (" + Number(*rel * *baseline) + ")";
    }
  };
  bound(">=", min, min_vs_baseline);
  bound("<=", max, max_vs_baseline);
  return out;
}

nlohmann::json GuardSample::ToJson() const {
  return {{"at", FormatRfc3339(at)},
          {"value", value ? nlohmann::json(*value) : nlohmann::json(nullptr)},
          {"verdict", VerdictName(verdict)},
          {"detail", detail}};
}

nlohmann::json GuardBreach::ToJson() const {
  return {{"guard", guard},
          {"reason", reason},
          {"value", value ? nlohmann::json(*value) : nlohmann::json(nullptr)},
          {"threshold", threshold},
          {"sampled_at", FormatRfc3339(sampled_at)},
          {"detected_at", FormatRfc3339(detected_at)}};
}

}  // namespace ringfence
