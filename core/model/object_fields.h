#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// One known key of an object in a file the user wrote (an experiment, a schedule): how to read
// it, and what to say when a required one is missing.
struct ObjectField {
  std::string key;
  bool required = false;
  std::string missing_allowed;
  std::function<void(const nlohmann::ordered_json& value, const std::string& pointer)> read;
};

// Reads `object`'s members in file order (an ordered_json keeps it): each known key through its
// field, each unknown key as an error at its pointer listing the known ones ("unknown key: one
// of a, b"); then a "missing" error for each absent required key, in the fields' order. The
// caller has checked that `object` is an object.
void ReadObjectFields(const nlohmann::ordered_json& object, const std::string& pointer,
                      const std::vector<ObjectField>& fields, ValidationErrors& errors);

}  // namespace ringfence
