#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// Checked reads of one member of a JSON object that did not come from our own validated model
// (ledger records, undo records read back). None of them throws. On a wrong type or a missing
// required member they return kInvalidInput with the member's JSON pointer (`pointer` is the
// object's own, "" for the top), the value found and what was expected:
//   /id: found "x": expected an unsigned integer
//   /undo/fault_type: missing: expected a string
// A missing member with a `fallback` yields the fallback.
Result<std::string> CheckedString(const nlohmann::json& object, const std::string& key,
                                  const std::string& pointer,
                                  std::optional<std::string> fallback = std::nullopt);
Result<uint64_t> CheckedUnsigned(const nlohmann::json& object, const std::string& key,
                                 const std::string& pointer,
                                 std::optional<uint64_t> fallback = std::nullopt);
Result<int64_t> CheckedInteger(const nlohmann::json& object, const std::string& key,
                               const std::string& pointer,
                               std::optional<int64_t> fallback = std::nullopt);
Result<bool> CheckedBool(const nlohmann::json& object, const std::string& key,
                         const std::string& pointer, std::optional<bool> fallback = std::nullopt);
// A member that must be an object (`fallback`: an empty object when missing, if true).
Result<nlohmann::json> CheckedObject(const nlohmann::json& object, const std::string& key,
                                     const std::string& pointer, bool empty_when_missing);

// "<pointer>: found <value>: expected <what>", the value as compact JSON cut at 40 characters.
Status WrongType(const std::string& pointer, const nlohmann::json& found, const std::string& what);

}  // namespace ringfence
