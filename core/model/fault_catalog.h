#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"
#include "core/model/params.h"

namespace ringfence {

// What the experiment reader knows of one fault type: its declaration and the checks that the
// generic parameter validation cannot make. FaultFactory (core/fault/fault.h) is one.
class FaultSchema {
 public:
  virtual ~FaultSchema() = default;

  // Name, summary, parameters: drives validation, `ringfence faults` and docs.
  virtual const FaultDecl& Declaration() const = 0;

  // Checks what the generic parameter validation cannot (cross-field rules), adding errors under
  // `pointer` (the params object). `params` passed ValidateParams and has defaults filled in.
  virtual void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                              ValidationErrors& errors) const {
    (void)params, (void)pointer, (void)errors;
  }
};

// The fault types an experiment may name. FaultRegistry (core/fault/fault.h) is one.
class FaultCatalog {
 public:
  virtual ~FaultCatalog() = default;
  // The schema of fault type `type`, or nullptr when there is none.
  virtual const FaultSchema* FindSchema(const std::string& type) const = 0;
  // Every schema, sorted by name.
  virtual std::vector<const FaultSchema*> Schemas() const = 0;
};

}  // namespace ringfence
