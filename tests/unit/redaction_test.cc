#include "runner/base/redaction.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

TEST(RedactionTest, ReplacesEveryOccurrenceInTextAndJson) {
  Redactor r;
  r.Add("api_token", "s3cr3t-value");
  r.Add("short", "abc");  // too short to redact safely
  EXPECT_EQ(r.Apply(std::string("Authorization: s3cr3t-value; again s3cr3t-value; abc")),
            "Authorization: [redacted:api_token]; again [redacted:api_token]; abc");
  nlohmann::json doc = {{"url", "http://x/?t=s3cr3t-value"}, {"list", {"s3cr3t-value", 3}}};
  EXPECT_EQ(r.Apply(doc), (nlohmann::json{{"url", "http://x/?t=[redacted:api_token]"},
                                          {"list", {"[redacted:api_token]", 3}}}));
}

TEST(RedactionTest, LongerSecretsWinOverShorterOnesInside) {
  Redactor r;
  r.Add("a_token", "abcd");
  r.Add("b_token", "abcdefgh");
  EXPECT_EQ(r.Apply(std::string("abcdefgh abcd")), "[redacted:b_token] [redacted:a_token]");
}

TEST(RedactionTest, NamesThatLookSecret) {
  for (const char* n :
       {"DB_PASSWORD", "api_token", "ApiKey", "aws_secret", "ssh_private_key", "tls_key"}) {
    EXPECT_TRUE(LooksSecret(n)) << n;
  }
  for (const char* n : {"port", "host", "keyspace", "monkey"}) EXPECT_FALSE(LooksSecret(n)) << n;
}

TEST(RedactionTest, FindsPlaceholderNames) {
  EXPECT_EQ(PlaceholderNames("a ${x} b ${DB_PASSWORD} ${not closed"),
            (std::vector<std::string>{"x", "DB_PASSWORD"}));
}

}  // namespace
}  // namespace ringfence
