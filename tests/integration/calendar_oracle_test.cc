// CalendarSpec::Next against systemd's own calendar code: `systemd-analyze calendar` (Debian's
// systemd, which works without systemd running) is the oracle for every expression of
// tests/data/calendar_oracle.txt.

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/schedule/calendar.h"
#include "core/sys/run_command.h"

namespace ringfence {
namespace {

struct OracleCase {
  std::string base;  // "2026-12-07 10:17:03", UTC
  std::string tz;    // the environment's TZ ("-": UTC)
  std::string expression;
};

std::vector<OracleCase> Corpus() {
  std::ifstream in(std::string(RINGFENCE_SOURCE_DIR) + "/tests/data/calendar_oracle.txt");
  std::vector<OracleCase> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find(';');
    const auto b = line.find(';', a + 1);
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

WallTime ParseUtc(const std::string& text) {
  int y, mo, d, h, mi, s;
  EXPECT_EQ(std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s), 6) << text;
  return *TimeZone::Utc().FromCivil(y, mo, d, h, mi, s);
}

constexpr int kIterations = 12;

// The elapses systemd-analyze prints, in UTC ("never" ends the list).
std::vector<std::string> OracleElapses(const OracleCase& c) {
  auto result =
      RunCommand({"/usr/bin/env", "TZ=" + (c.tz == "-" ? std::string("UTC") : c.tz),
                  "systemd-analyze", "calendar", "--iterations=" + std::to_string(kIterations),
                  "--base-time=" + c.base + " UTC", c.expression},
                 std::chrono::seconds(20));
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 0) << result->err;
  static const std::regex kLine(
      R"((?:Next elapse|Iter\. #\d+|\(in UTC\)): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\s*$)");
  std::vector<std::string> out;
  std::istringstream lines(result->out);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kLine)) out.push_back(m[1]);
  }
  return out;
}

std::vector<std::string> OurElapses(const OracleCase& c) {
  const TimeZone zone = c.tz == "-" ? TimeZone::Utc() : *TimeZone::Load(c.tz);
  auto spec = CalendarSpec::Parse(c.expression, zone);
  EXPECT_TRUE(spec.ok()) << c.expression << ": " << spec.status().message();
  std::vector<std::string> out;
  if (!spec.ok()) return out;
  WallTime t = ParseUtc(c.base);
  for (int i = 0; i < kIterations; ++i) {
    auto next = spec->Next(t);
    if (!next) break;
    const auto civil = TimeZone::Utc().ToCivil(*next);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", civil.year, civil.month,
                  civil.day, civil.hour, civil.minute, civil.second);
    out.push_back(buf);
    t = *next;
  }
  return out;
}

TEST(CalendarOracle, NextElapsesMatchSystemdAnalyze) {
  const auto corpus = Corpus();
  ASSERT_GE(corpus.size(), 40u);
  for (const auto& c : corpus) {
    SCOPED_TRACE("TZ=" + c.tz + " base " + c.base + ": " + c.expression);
    const auto expected = OracleElapses(c);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(OurElapses(c), expected);
  }
}

}  // namespace
}  // namespace ringfence
