#pragma once

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// Secret values by name, as the runner knows them (--secret, secret-looking --var and
// environment values) and hands them to its watchdog over their socket pair, or as `recover
// --secret name=value` is given them. Never read from or written to disk: what goes to disk
// (ledger, journal, logs) is Conceal()ed, and an undo record read back is Reveal()ed before use.
class SecretValues {
 public:
  // Values shorter than 4 characters are not kept (they would blank out ordinary text).
  void Add(const std::string& name, const std::string& value);
  bool empty() const { return by_value_.empty(); }
  // Every occurrence of a value becomes "[redacted:<name>]", longest values first, so that a
  // secret that contains another is replaced whole.
  std::string Conceal(std::string text) const;
  nlohmann::json Conceal(const nlohmann::json& doc) const;  // every string, keys included
  // The inverse: every "[redacted:<name>]" in the strings of `doc` (keys included) becomes the
  // value of <name>; the names it has no value for are added to `missing` (their marks stay).
  nlohmann::json Reveal(const nlohmann::json& doc, std::set<std::string>& missing) const;
  std::string Reveal(const std::string& text, std::set<std::string>& missing) const;

  // {"name": "value", ...}: only for the socket pair to the watchdog.
  nlohmann::json ToJson() const;
  // Reads ToJson()'s output; kInvalidInput when it is not an object of strings.
  static Result<SecretValues> FromJson(const nlohmann::json& j);

 private:
  std::map<std::string, std::string> by_value_;  // value → name
  std::map<std::string, std::string> by_name_;   // name → value
};

}  // namespace ringfence
