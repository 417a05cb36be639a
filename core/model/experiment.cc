#include "core/model/experiment.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "core/base/input_file.h"
#include "core/base/placeholders.h"
#include "core/model/experiment_reader.h"
#include "core/model/fault_catalog.h"
#include "core/model/json_document.h"

namespace ringfence {

namespace {

using internal::Child;
using internal::ExperimentReader;
using internal::ojson;

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kNumberRangeAllowed[] =
    "a number from -1.7976931348623157e308 to 1.7976931348623157e308";
constexpr char kSizeAllowed[] = "a file of at most 1048576 bytes (1 MiB)";

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The useful part of a parse_error message ("unexpected '}'; expected string literal").
std::string SyntaxReason(const std::string& what) {
  std::string reason = what;
  if (size_t at = reason.find("syntax error while parsing "); at != std::string::npos) {
    reason = reason.substr(at);
    if (size_t dash = reason.find(" - "); dash != std::string::npos) {
      reason = reason.substr(dash + 3);
    }
  } else if (size_t colon = reason.find(": "); colon != std::string::npos) {
    reason = reason.substr(colon + 2);
  }
  // A long token in "last read: '...'" is cut like any found value.
  if (size_t last = reason.find("last read: '"); last != std::string::npos) {
    size_t start = last + 12;
    size_t end = reason.find('\'', start);
    while (end != std::string::npos && end + 1 < reason.size() && reason[end + 1] != ';') {
      end = reason.find('\'', end + 1);
    }
    if (end == std::string::npos) end = reason.size();
    std::string token = reason.substr(start, end - start);
    if (token.size() > kMaxFoundChars) {
      size_t cut = kMaxFoundChars - 1;
      while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
      reason.replace(start, end - start, token.substr(0, cut) + "…");
    }
  }
  return reason;
}

// Line and column (both 1-based) of the byte at 1-based offset `byte` in `text`.
std::pair<int, int> LineAndColumn(const std::string& text, size_t byte) {
  const size_t pos = std::min(byte == 0 ? 0 : byte - 1, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(pos - line_start + 1)};
}

// Watches the parser's events: refuses nesting deeper than kMaxExperimentDepth and finds keys
// given twice in one object (the parser would silently keep the last one).
class StructureCheck {
 public:
  using Event = ojson::parse_event_t;

  // The parser callback. `depth` is the number of containers around the event, so a container
  // starting at depth kMaxExperimentDepth would be level kMaxExperimentDepth + 1. Deeper
  // containers are discarded as they are parsed so that an absurd file builds no absurd tree.
  bool operator()(int depth, Event event, ojson& parsed) {
    if (ignored_levels_ > 0) {
      if (event == Event::object_start || event == Event::array_start) ++ignored_levels_;
      if (event == Event::object_end || event == Event::array_end) --ignored_levels_;
      return true;
    }
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (depth >= kMaxExperimentDepth) {
          too_deep_ = true;
          ignored_levels_ = 1;
          return false;
        }
        frames_.push_back({event == Event::object_start, NextPointer(), {}, "", 0});
        return true;
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        return true;
      case Event::key: {
        Frame& object = frames_.back();
        object.last_key = parsed.get<std::string>();
        if (!object.keys.insert(object.last_key).second) {
          duplicates_.push_back(Child(object.pointer, object.last_key));
        }
        return true;
      }
      case Event::value:
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().next_index;
        return true;
    }
    return true;
  }

  bool too_deep() const { return too_deep_; }
  // The pointer of the value the parser is reading now (e.g. a number that overflowed).
  std::string ValuePointer() const {
    if (frames_.empty()) return "";
    const Frame& parent = frames_.back();
    if (parent.is_object) return Child(parent.pointer, parent.last_key);
    return Child(parent.pointer, parent.next_index);
  }
  // Pointers of keys given more than once, in document order.
  const std::vector<std::string>& duplicates() const { return duplicates_; }

 private:
  struct Frame {
    bool is_object;
    std::string pointer;
    std::set<std::string> keys;  // objects
    std::string last_key;        // objects
    size_t next_index;           // arrays
  };

  // The pointer of a container that starts now.
  std::string NextPointer() {
    if (frames_.empty()) return "";
    Frame& parent = frames_.back();
    if (parent.is_object) return Child(parent.pointer, parent.last_key);
    return Child(parent.pointer, parent.next_index++);
  }

  std::vector<Frame> frames_;
  int ignored_levels_ = 0;
  bool too_deep_ = false;
  std::vector<std::string> duplicates_;
};

// Parses `text`, refusing syntax errors, nesting deeper than kMaxExperimentDepth and duplicate
// keys (reported after the parse; the document is still returned then).
std::optional<ojson> Parse(const std::string& text, ValidationErrors& errors) {
  StructureCheck check;
  ojson doc;
  try {
    doc = ojson::parse(text, std::ref(check));
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, column] = LineAndColumn(text, e.byte);
    errors.AddSyntax(line, column, "syntax error", SyntaxReason(e.what()));
    return std::nullopt;
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number beyond a double ("1e400", a 400-digit integer): "number overflow parsing
    // '1e400'". Reported at the value's pointer with the number as found.
    std::string token = e.what();
    if (const size_t open = token.find('\''); open != std::string::npos) {
      token = token.substr(open + 1);
      if (!token.empty() && token.back() == '\'') token.pop_back();
    }
    if (token.size() > kMaxFoundChars) token = token.substr(0, kMaxFoundChars - 1) + "…";
    errors.Add(check.ValuePointer(), token, kNumberRangeAllowed);
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    errors.Add(check.ValuePointer(), "unreadable value",
               std::string("valid JSON (") + e.what() + ")");
    return std::nullopt;
  }
  if (check.too_deep()) {
    errors.Add("", "nesting deeper than 64 levels", "at most 64 levels of arrays and objects");
    return std::nullopt;
  }
  for (const auto& pointer : check.duplicates()) {
    errors.Add(pointer, "duplicate key", "each key at most once in an object");
  }
  return doc;
}

// The catalog of a load without one: no fault types.
const FaultCatalog& NoFaults() {
  class Empty : public FaultCatalog {
   public:
    const FaultSchema* FindSchema(const std::string&) const override { return nullptr; }
    std::vector<const FaultSchema*> Schemas() const override { return {}; }
  };
  static const Empty empty;
  return empty;
}

}  // namespace

const TargetSpec* Experiment::FindTarget(const std::string& name) const {
  for (const auto& t : targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<ProbeSpec> ReadProbeObject(const nlohmann::json& probe, const std::string& pointer,
                                         const Experiment& experiment, ValidationErrors& errors) {
  return ExperimentReader(NoFaults(), errors).ReadOneProbe(ojson(probe), pointer, experiment);
}

std::optional<nlohmann::ordered_json> ParseJsonDocument(const std::string& text,
                                                        ValidationErrors& errors) {
  if (text.size() > kMaxExperimentBytes) {
    errors.Add("", std::to_string(text.size()) + " bytes", kSizeAllowed);
    return std::nullopt;
  }
  const size_t errors_before = errors.size();
  std::optional<ojson> doc = Parse(text, errors);
  if (errors.size() != errors_before) return std::nullopt;
  return doc;
}

std::optional<Experiment> LoadExperimentText(const std::string& text, const LoadOptions& options,
                                             ValidationErrors& errors) {
  if (text.size() > kMaxExperimentBytes) {
    errors.Add("", std::to_string(text.size()) + " bytes", kSizeAllowed);
    return std::nullopt;
  }
  if (IsBlank(text)) {
    errors.Add("", "empty file", "a JSON object");
    return std::nullopt;
  }
  const size_t errors_before = errors.size();
  std::optional<ojson> doc = Parse(text, errors);
  if (!doc) return std::nullopt;
  if (!doc->is_object()) {
    errors.Add("", FoundValue(*doc), "a JSON object");
    return std::nullopt;
  }

  PlaceholderLookup lookup = [&options](const std::string& name) -> std::optional<std::string> {
    if (auto it = options.vars.find(name); it != options.vars.end()) return it->second;
    if (options.env) return options.env(name);
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
  ValidationErrors placeholder_errors;
  FillPlaceholders(*doc, lookup, "", placeholder_errors);

  const FaultCatalog& catalog = options.catalog != nullptr ? *options.catalog : NoFaults();
  Experiment experiment;
  ValidationErrors semantic_errors;
  ExperimentReader(catalog, semantic_errors).Read(*doc, experiment);

  // A string whose placeholder could not be filled is reported once, for the placeholder.
  std::set<std::string> unfilled;
  for (const auto& e : placeholder_errors.errors()) {
    unfilled.insert(e.pointer);
    errors.Add(e.pointer, e.found, e.allowed);
  }
  for (const auto& e : semantic_errors.errors()) {
    if (unfilled.count(e.pointer) == 0) errors.Add(e.pointer, e.found, e.allowed);
  }
  if (errors.size() != errors_before) return std::nullopt;

  experiment.document = nlohmann::json(*doc);
  return experiment;
}

std::optional<Experiment> LoadExperimentFile(const std::string& path, const LoadOptions& options,
                                             ValidationErrors& errors) {
  InputFileRefusal refusal;
  Result<std::string> text = ReadCommandLineInput(path, kMaxExperimentBytes, "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  return LoadExperimentText(*text, options, errors);
}

}  // namespace ringfence
