// The helpers every section of the experiment reader uses (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include <limits>

namespace ringfence::internal {

namespace {

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kBoolean[] = "true or false";

}  // namespace

std::string DurationAllowed(bool positive) {
  return std::string(kDurationAllowed) + (positive ? " (greater than 0)" : " (0 or more)");
}

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::optional<int64_t> IntegralIn(const ojson& v, int64_t lo, int64_t hi) {
  std::optional<int64_t> i;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      i = static_cast<int64_t>(v.get<uint64_t>());
    }
  } else if (v.is_number_integer()) {
    i = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d > -9.0e15 && d < 9.0e15 && d == static_cast<double>(static_cast<int64_t>(d))) {
      i = static_cast<int64_t>(d);
    }
  }
  if (i && *i >= lo && *i <= hi) return i;
  return std::nullopt;
}

void ExperimentReader::Error(const std::string& pointer, const ojson& found,
                             const std::string& allowed) {
  errors_.Add(pointer, FoundValue(found), allowed);
}

std::optional<std::string> ExperimentReader::String(const ojson& v, const std::string& p,
                                                    bool non_empty, const std::string& allowed) {
  if (!v.is_string() || (non_empty && v.get_ref<const std::string&>().empty())) {
    Error(p, v, allowed);
    return std::nullopt;
  }
  return v.get<std::string>();
}

// A string compiled as a Regex, once; RE2's reason for refusing it goes into `allowed`.
std::optional<Regex> ExperimentReader::RegexValue(const ojson& v, const std::string& p,
                                                  bool non_empty, const std::string& allowed) {
  auto s = String(v, p, non_empty, allowed);
  if (!s) return std::nullopt;
  Regex regex(std::move(*s));
  if (!regex.ok()) {
    Error(p, v, allowed + " (" + regex.error() + ")");
    return std::nullopt;
  }
  return regex;
}

std::optional<bool> ExperimentReader::Bool(const ojson& v, const std::string& p) {
  if (!v.is_boolean()) {
    Error(p, v, kBoolean);
    return std::nullopt;
  }
  return v.get<bool>();
}

std::optional<Duration> ExperimentReader::DurationValue(const ojson& v, const std::string& p,
                                                        bool positive) {
  if (v.is_string()) {
    auto d = ParseDuration(v.get<std::string>());
    if (d.ok() && (!positive || d->count() > 0)) return *d;
  }
  Error(p, v, DurationAllowed(positive));
  return std::nullopt;
}

std::optional<int64_t> ExperimentReader::Integer(const ojson& v, const std::string& p, int64_t lo,
                                                 int64_t hi, const std::string& allowed) {
  auto i = IntegralIn(v, lo, hi);
  if (!i) Error(p, v, allowed);
  return i;
}

// An array of strings; element errors name the element. With `argv`, the array must not be
// empty and its first element (the program) must not be empty either.
std::optional<std::vector<std::string>> ExperimentReader::Strings(const ojson& v,
                                                                  const std::string& p,
                                                                  const std::string& allowed,
                                                                  bool argv) {
  if (!v.is_array() || (argv && v.empty())) {
    Error(p, v, allowed);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      Error(Child(p, i), v[i], kAString);
      ok = false;
    } else if (argv && i == 0 && v[i].get_ref<const std::string&>().empty()) {
      Error(Child(p, i), v[i], "a program name or path");
      ok = false;
    } else {
      out.push_back(v[i].get<std::string>());
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string ExperimentReader::TargetAllowed() const {
  if (target_names_.empty()) return "the name of a target in /targets (there are none)";
  std::string names;
  for (const auto& n : target_names_) names += (names.empty() ? "" : ", ") + n;
  return "the name of a target in /targets (" + names + ")";
}

std::optional<std::string> ExperimentReader::TargetRef(const ojson& v, const std::string& p) {
  if (v.is_string()) {
    for (const auto& n : target_names_) {
      if (n == v.get_ref<const std::string&>()) return n;
    }
  }
  Error(p, v, TargetAllowed());
  return std::nullopt;
}

}  // namespace ringfence::internal
