#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// Parses JSON from outside (a host's reply, a hosts file): never throws, and refuses nesting
// deeper than `max_depth` levels while parsing — a deeper document would build a deep tree
// whose printing (FoundValue, dump) recurses once per level and can overflow the stack.
// Errors (kInvalidInput): "not JSON (<parser's reason>)", "nesting deeper than 64 levels".
inline constexpr int kMaxUntrustedJsonDepth = 64;
Result<nlohmann::json> ParseUntrustedJson(const std::string& text,
                                          int max_depth = kMaxUntrustedJsonDepth);

// Checked reads of JSON that did not come from our own validated model (host replies, and
// whatever else arrives from outside): the member when it has the expected type, `fallback`
// when it is absent, or else a kRuntime Status naming the member and what it held, such as
// `"ok" is "yes", not true or false` or `no "pid"`. The caller names the source (the host).
// Never throw, whatever `object` holds.
Result<bool> BoolMember(const nlohmann::json& object, const std::string& key,
                        std::optional<bool> fallback = std::nullopt);
Result<std::string> StringMember(const nlohmann::json& object, const std::string& key,
                                 std::optional<std::string> fallback = std::nullopt);
// An integer (5, not 5.5 or "5") from lo to hi.
Result<int64_t> IntegerMember(const nlohmann::json& object, const std::string& key, int64_t lo,
                              int64_t hi, std::optional<int64_t> fallback = std::nullopt);
Result<uint64_t> UnsignedMember(const nlohmann::json& object, const std::string& key,
                                std::optional<uint64_t> fallback = std::nullopt);
// A member that must be an array / an object (fallback: absent is an empty one when true).
Result<nlohmann::json> ArrayMember(const nlohmann::json& object, const std::string& key,
                                   bool absent_is_empty = false);
Result<nlohmann::json> ObjectMember(const nlohmann::json& object, const std::string& key,
                                    bool absent_is_empty = false);

}  // namespace ringfence
