// Placeholders (core/base/placeholders.cc). The input is the string to fill, then optionally a NUL
// byte and the placeholder values, one `name=value` per line (a value may be anything, invalid
// UTF-8 included). The string is filled alone and inside a small document.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/placeholders.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  const std::string_view input = fuzz::AsText(data, size);
  const size_t nul = input.find('\0');
  const std::string text(input.substr(0, nul));
  std::map<std::string, std::string> values;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      const size_t eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      values[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
  }
  const PlaceholderLookup lookup =
      [&values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };

  ValidationErrors errors;
  const nlohmann::ordered_json filled = FillPlaceholdersInString(text, lookup, "/x", errors);
  if (!errors.empty() && filled != nlohmann::ordered_json(text)) {
    fuzz::Violated("a string with a placeholder error was changed");
  }
  if (text.find('$') == std::string::npos && filled != nlohmann::ordered_json(text)) {
    fuzz::Violated("a string without '$' was changed");
  }
  (void)filled.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);

  nlohmann::ordered_json doc = {{"a", text}, {"b", {text, {{"c~/", text}}}}};
  ValidationErrors doc_errors;
  FillPlaceholders(doc, lookup, "", doc_errors);
  (void)doc_errors.Format("fuzz.json");
  return 0;
}
