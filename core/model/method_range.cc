#include "core/model/method_range.h"

#include <optional>

namespace ringfence {

bool SelectMethodRange(Experiment& experiment, const std::string& from, const std::string& to,
                       ValidationErrors& errors) {
  if (from.empty() && to.empty()) return true;
  std::string names;
  for (const MethodStep& s : experiment.method) names += (names.empty() ? "" : ", ") + s.name;
  const std::string allowed = experiment.method.empty()
                                  ? std::string("a method step, but /method has none")
                                  : "the name of a method step (" + names + ")";
  auto find = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t i = 0; i < experiment.method.size(); ++i) {
      if (experiment.method[i].name == name) return i;
    }
    return std::nullopt;
  };
  const size_t before = errors.size();
  std::optional<size_t> first = from.empty() ? std::optional<size_t>(0) : find(from);
  std::optional<size_t> last = to.empty() && !experiment.method.empty()
                                   ? std::optional<size_t>(experiment.method.size() - 1)
                                   : find(to);
  if (!first) errors.Add("/method", "--from \"" + from + "\"", allowed);
  if (!last) errors.Add("/method", "--to \"" + to + "\"", allowed);
  if (first && last && *last < *first) {
    errors.Add("/method", "--to \"" + to + "\" is step " + std::to_string(*last),
               "a step at or after --from \"" + from + "\" (step " + std::to_string(*first) + ")");
  }
  if (errors.size() != before) return false;
  experiment.method = std::vector<MethodStep>(experiment.method.begin() + *first,
                                              experiment.method.begin() + *last + 1);
  return true;
}

std::string MethodRangeText(const std::string& from, const std::string& to) {
  std::string text;
  if (!from.empty()) text += "--from " + from;
  if (!to.empty()) text += std::string(text.empty() ? "" : " ") + "--to " + to;
  return text;
}

}  // namespace ringfence
