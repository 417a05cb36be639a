#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace ringfence {

// A user's regular expression (selectors, body_regex, stdout_regex, regex tolerances), in RE2
// syntax (https://github.com/google/re2/wiki/Syntax): matching takes time linear in the text,
// uses no recursion and bounded memory, so no pattern and no text can hang or crash the
// runner. Backreferences and lookaround are not supported; they are compile errors.
//
// Compiled once, when it is built; copies share the compiled program, and matching is safe
// from any number of threads at once. Built from a pattern that does not compile it is !ok(),
// error() says why (RE2's text, e.g. "missing ): a("), and it matches nothing.
// A default-built Regex is the empty pattern, which matches every text.
class Regex {
 public:
  Regex();
  Regex(std::string pattern);  // NOLINT: implicit, like RE2, so that a pattern reads as one
  Regex(const char* pattern);  // NOLINT

  bool ok() const { return error_.empty(); }
  // Why the pattern did not compile; empty when ok().
  const std::string& error() const { return error_; }
  const std::string& pattern() const { return pattern_; }

  // Whether the pattern matches somewhere in `text` (unanchored, like grep).
  bool Search(std::string_view text) const;

  // Compares the pattern (for tests: EXPECT_EQ(probe.stdout_regex, "ok")).
  friend bool operator==(const Regex& a, std::string_view pattern) { return a.pattern_ == pattern; }

 private:
  std::string pattern_;
  std::string error_;
  std::shared_ptr<const re2::RE2> compiled_;  // null for the empty pattern and on error
};

// The largest compiled program a pattern may have (RE2::Options::max_mem); bigger patterns
// are a compile error ("pattern too large - compile failed").
inline constexpr int64_t kMaxRegexMemoryBytes = 8 << 20;

std::ostream& operator<<(std::ostream& out, const Regex& regex);  // the pattern, for tests

}  // namespace ringfence
