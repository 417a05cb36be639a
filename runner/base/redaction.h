#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/secret_values.h"

namespace ringfence {

// Values that must not appear in journals or logs: those given with --secret, and those of
// --var values or environment variables filled into the experiment whose names look secret
// (LooksSecret). Each occurrence becomes "[redacted:<name>]". Values shorter than 4 characters are
// not redacted (they would blank out ordinary text); docs/cli.md says so.
class Redactor {
 public:
  void Add(const std::string& name, const std::string& value) { values_.Add(name, value); }
  bool empty() const { return values_.empty(); }
  std::string Apply(std::string text) const { return values_.Conceal(std::move(text)); }
  // Every string, keys included.
  nlohmann::json Apply(const nlohmann::json& doc) const { return values_.Conceal(doc); }
  // The values themselves: for the ledger (which conceals them) and the watchdog's socket pair.
  const SecretValues& values() const { return values_; }

 private:
  SecretValues values_;
};

// Whether a variable name looks like it holds a secret: it contains (any case) secret, password,
// passwd, token, apikey, api_key, credential, private_key or ends in _key.
bool LooksSecret(const std::string& name);

// The names of the `${name}` placeholders in `text`.
std::vector<std::string> PlaceholderNames(const std::string& text);

// Redacts every log line from now on (nullptr: none). Thread-safe.
void SetLogRedactor(std::shared_ptr<const Redactor> redactor);

}  // namespace ringfence
