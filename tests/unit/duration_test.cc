#include "core/base/duration.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("2m"), milliseconds(120'000));
  EXPECT_EQ(*ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("0ms"), milliseconds(0));
}

TEST(DurationTest, AcceptsFractionsOfWholeMilliseconds) {
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(*ParseDuration("0.25m"), milliseconds(15'000));
  EXPECT_EQ(*ParseDuration("0.001s"), milliseconds(1));
  EXPECT_EQ(*ParseDuration("2.50000000000s"), milliseconds(2'500));
}

TEST(DurationTest, RefusesFractionsOfMilliseconds) {
  EXPECT_FALSE(ParseDuration("0.5ms").ok());
  EXPECT_FALSE(ParseDuration("1.0001s").ok());
  EXPECT_EQ(ParseDuration("0.5ms").status().message(),
            "invalid duration \"0.5ms\": not a whole number of milliseconds");
}

TEST(DurationTest, RefusesNegativeUnparsableAndUnitless) {
  for (const char* text : {"-5s", "+5s", "5", "", "s", "ms", "5 s", " 5s", "5s ", "5sec", "1.s",
                           ".5s", "1e3ms", "5S", "1h30m", "five s", "0x10s", "1..5s"}) {
    auto d = ParseDuration(text);
    EXPECT_FALSE(d.ok()) << text;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), StatusCode::kInvalidInput) << text;
    }
  }
  EXPECT_EQ(ParseDuration("-5s").status().message(),
            "invalid duration \"-5s\": expected a number followed by ms, s, m or h");
}

// Issue 11: "2562047788015h" fits in int64 milliseconds but overflows the clocks'
// nanoseconds; every duration is at most kMaxDuration (100000h) so that none can.
TEST(DurationTest, RefusesOverflow) {
  EXPECT_EQ(*ParseDuration("100000h"), std::chrono::hours(100000));
  EXPECT_EQ(*ParseDuration("360000000000ms"), std::chrono::hours(100000));
  EXPECT_FALSE(ParseDuration("360000000001ms").ok());
  EXPECT_FALSE(ParseDuration("100000.001h").ok());
  EXPECT_FALSE(ParseDuration("9223372036854775807ms").ok());
  EXPECT_FALSE(ParseDuration("9223372036854775808ms").ok());
  EXPECT_FALSE(ParseDuration("9999999999999999999999999999h").ok());
  EXPECT_FALSE(ParseDuration("2562047788015h").ok());
  EXPECT_EQ(ParseDuration("2562047788015h").status().message(),
            "invalid duration \"2562047788015h\": too large (at most 100000h)");
  // The longest one still fits the steady clock's nanoseconds after now.
  const auto later = std::chrono::steady_clock::now() + *ParseDuration("100000h");
  EXPECT_GT(later, std::chrono::steady_clock::now());
}

TEST(DurationTest, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(120'000)), "2m");
  EXPECT_EQ(FormatDuration(milliseconds(5'400'000)), "90m");
  EXPECT_EQ(FormatDuration(milliseconds(7'200'000)), "2h");
}

TEST(DurationTest, FormatRoundTrips) {
  for (long long ms : {1LL, 999LL, 1'000LL, 61'000LL, 3'600'000LL, 86'400'000LL}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace ringfence
