#include "core/model/params.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "core/base/duration.h"
#include "core/base/signals.h"

namespace ringfence {

namespace {

constexpr char kSignalAllowed[] = "a signal name (SIGTERM or TERM) or number 1-64";

// "1", "0.5", "1e+20": integral values without a fraction.
std::string FormatNumber(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) {
    return std::to_string(static_cast<long long>(x));
  }
  return nlohmann::json(x).dump();
}

std::string FormatLimit(const ParamDecl& param, double x) {
  if (param.type == ParamType::kDuration) {
    return FormatDuration(Duration(static_cast<Duration::rep>(x)));
  }
  return FormatNumber(x);
}

// " from A to B", " of at least A", " of at most B" or "".
std::string RangeText(const ParamDecl& param) {
  if (param.min && param.max) {
    return " from " + FormatLimit(param, *param.min) + " to " + FormatLimit(param, *param.max);
  }
  if (param.min) return " of at least " + FormatLimit(param, *param.min);
  if (param.max) return " of at most " + FormatLimit(param, *param.max);
  return "";
}

bool WithinLimits(const ParamDecl& param, double x) {
  return (!param.min || x >= *param.min) && (!param.max || x <= *param.max);
}

// An integral number (5 or 5.0) as int64, or nullopt.
std::optional<int64_t> Integral(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

// Whether `value` is a valid value for `param` (type, limits, choices), ignoring list items.
bool ValueMatches(const ParamDecl& param, const nlohmann::json& value) {
  switch (param.type) {
    case ParamType::kString:
      return value.is_string();
    case ParamType::kInteger: {
      auto i = Integral(value);
      return i && WithinLimits(param, static_cast<double>(*i));
    }
    case ParamType::kNumber:
      return value.is_number() && WithinLimits(param, value.get<double>());
    case ParamType::kBoolean:
      return value.is_boolean();
    case ParamType::kDuration: {
      if (!value.is_string()) return false;
      auto d = ParseDuration(value.get<std::string>());
      return d.ok() && WithinLimits(param, static_cast<double>(d->count()));
    }
    case ParamType::kSignal:
      return ParseSignal(value) != 0;
    case ParamType::kStringList:
    case ParamType::kCountList:
      return value.is_array();
    case ParamType::kEnum:
      if (!value.is_string()) return false;
      for (const auto& choice : param.choices) {
        if (value.get<std::string>() == choice) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString:
      return "string";
    case ParamType::kInteger:
      return "integer";
    case ParamType::kNumber:
      return "number";
    case ParamType::kBoolean:
      return "boolean";
    case ParamType::kDuration:
      return "duration";
    case ParamType::kSignal:
      return "signal";
    case ParamType::kStringList:
      return "string_list";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kCountList:
      return "count_list";
  }
  return "unknown";
}

std::string ParamAllowed(const ParamDecl& param) {
  switch (param.type) {
    case ParamType::kString:
      return "a string";
    case ParamType::kInteger:
      return "an integer" + RangeText(param);
    case ParamType::kNumber:
      return "a number" + RangeText(param);
    case ParamType::kBoolean:
      return "true or false";
    case ParamType::kDuration: {
      std::string range = RangeText(param);
      // " of at least 1s" reads better as " (at least 1s)" after the examples.
      if (range.rfind(" of ", 0) == 0)
        range = range.substr(4);
      else if (!range.empty())
        range = range.substr(1);
      return std::string(kDurationAllowed) + (range.empty() ? "" : " (" + range + ")");
    }
    case ParamType::kSignal:
      return kSignalAllowed;
    case ParamType::kStringList:
      return "an array of strings";
    case ParamType::kEnum:
      return OneOf(param.choices);
    case ParamType::kCountList:
      return "an array of counts and percentages, such as [1, \"10%\"]";
  }
  return "a value";
}

void ValidateParams(const FaultDecl& decl, const nlohmann::json& params, const std::string& pointer,
                    ValidationErrors& errors) {
  if (!params.is_object()) {
    errors.Add(pointer, FoundValue(params), "an object");
    return;
  }
  std::vector<std::string> names;
  for (const auto& p : decl.params) names.push_back(p.name);
  for (const auto& [key, value] : params.items()) {
    const std::string at = pointer + "/" + JsonPointerToken(key);
    const ParamDecl* param = nullptr;
    for (const auto& p : decl.params) {
      if (p.name == key) param = &p;
    }
    if (param == nullptr) {
      errors.Add(at, kFoundUnknownKey,
                 names.empty() ? decl.name + " takes no parameters" : OneOf(names));
      continue;
    }
    if (!ValueMatches(*param, value)) {
      errors.Add(at, FoundValue(value), ParamAllowed(*param));
      continue;
    }
    if (param->type == ParamType::kStringList) {
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          errors.Add(at + "/" + std::to_string(i), FoundValue(value[i]), "a string");
        }
      }
    }
    if (param->type == ParamType::kCountList) {
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string() && !value[i].is_number_integer()) {
          errors.Add(at + "/" + std::to_string(i), FoundValue(value[i]),
                     "a count (3) or a percentage (\"10%\")");
        }
      }
    }
  }
  for (const auto& p : decl.params) {
    if (p.required && !params.contains(p.name)) {
      errors.Add(pointer + "/" + JsonPointerToken(p.name), kFoundMissing, ParamAllowed(p));
    }
  }
}

nlohmann::json WithDefaults(const FaultDecl& decl, const nlohmann::json& params) {
  nlohmann::json out = params.is_object() ? params : nlohmann::json::object();
  for (const auto& p : decl.params) {
    if (!p.default_value.is_null() && !out.contains(p.name)) out[p.name] = p.default_value;
  }
  return out;
}

const nlohmann::json* ParamReader::Find(const std::string& name) const {
  const auto decl = std::find_if(decl_.params.begin(), decl_.params.end(),
                                 [&](const ParamDecl& p) { return p.name == name; });
  if (decl == decl_.params.end()) {
    throw std::logic_error(decl_.name + " reads param \"" + name + "\", which it does not declare");
  }
  if (params_.is_object()) {
    const auto given = params_.find(name);
    if (given != params_.end() && !given->is_null()) return &*given;
  }
  return decl->default_value.is_null() ? nullptr : &decl->default_value;
}

bool ParamReader::Given(const std::string& name) const {
  (void)Find(name);  // declared
  return params_.is_object() && params_.contains(name) && !params_[name].is_null();
}

std::optional<Duration> ParamReader::OptionalDuration(const std::string& name) const {
  const nlohmann::json* value = Find(name);
  if (value == nullptr) return std::nullopt;
  auto parsed = ParseDuration(value->get<std::string>());
  if (!parsed.ok()) throw std::logic_error(decl_.name + " param \"" + name + "\" did not validate");
  return *parsed;
}

int ParamReader::Signal(const std::string& name) const {
  const nlohmann::json* value = Find(name);
  if (value == nullptr) NoValue(name);
  return ParseSignal(*value);
}

void ParamReader::NoValue(const std::string& name) const {
  throw std::logic_error(decl_.name + " reads param \"" + name +
                         "\", which has no value and no default");
}

nlohmann::json DeclToJson(const FaultDecl& decl) {
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : decl.params) {
    nlohmann::json j = {
        {"name", p.name}, {"type", ParamTypeName(p.type)}, {"required", p.required}};
    if (!p.default_value.is_null()) j["default"] = p.default_value;
    auto limit = [&p](double x) -> nlohmann::json {
      if (p.type == ParamType::kDuration) {
        return FormatDuration(Duration(static_cast<Duration::rep>(x)));
      }
      if (x == std::floor(x) && std::fabs(x) < 1e15) return static_cast<int64_t>(x);
      return x;
    };
    if (p.min) j["min"] = limit(*p.min);
    if (p.max) j["max"] = limit(*p.max);
    if (!p.choices.empty()) j["choices"] = p.choices;
    if (!p.doc.empty()) j["doc"] = p.doc;
    params.push_back(std::move(j));
  }
  return {{"name", decl.name},
          {"summary", decl.summary},
          {"target_kind", decl.target_kind == TargetKind::kProcess ? "process" : "host"},
          {"params", std::move(params)}};
}

}  // namespace ringfence
