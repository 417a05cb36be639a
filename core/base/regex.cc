#include "core/base/regex.h"

#include <ostream>

#include <re2/re2.h>

namespace ringfence {

namespace {

constexpr size_t kMaxErrorArgChars = 40;

// RE2's error ("missing ): " followed by the rest of the pattern) with the pattern part cut
// to kMaxErrorArgChars characters, the last of which is then "…": a 30,000-character pattern
// must not become a 30,000-character message.
std::string ShortError(const std::string& error) {
  const size_t colon = error.find(": ");
  if (colon == std::string::npos) return error;
  const std::string arg = error.substr(colon + 2);
  if (arg.size() <= kMaxErrorArgChars) return error;
  size_t cut = kMaxErrorArgChars - 1;
  while (cut > 0 && (static_cast<unsigned char>(arg[cut]) & 0xC0) == 0x80) --cut;
  return error.substr(0, colon + 2) + arg.substr(0, cut) + "…";
}

}  // namespace

Regex::Regex() = default;

Regex::Regex(const char* pattern) : Regex(std::string(pattern)) {}

Regex::Regex(std::string pattern) : pattern_(std::move(pattern)) {
  if (pattern_.empty()) return;
  RE2::Options options;
  options.set_log_errors(false);  // the error goes into our message, not to stderr
  options.set_max_mem(kMaxRegexMemoryBytes);
  auto compiled = std::make_shared<const RE2>(pattern_, options);
  if (!compiled->ok()) {
    error_ = ShortError(compiled->error());
    if (error_.empty()) error_ = "does not compile";
    return;
  }
  compiled_ = std::move(compiled);
}

bool Regex::Search(std::string_view text) const {
  if (!ok()) return false;
  if (!compiled_) return true;  // the empty pattern
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *compiled_);
}

std::ostream& operator<<(std::ostream& out, const Regex& regex) {
  return out << '/' << regex.pattern() << '/';
}

}  // namespace ringfence
