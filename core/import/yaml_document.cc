#include "core/import/yaml_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <vector>

namespace ringfence {

namespace {

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

// A plain scalar as YAML 1.2's core schema types it.
nlohmann::ordered_json PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const bool integral =
      std::all_of(s.begin() + ((s[0] == '-' || s[0] == '+') ? 1 : 0), s.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      s.size() > ((s[0] == '-' || s[0] == '+') ? 1u : 0u);
  if (integral && s.size() < 19) return std::strtoll(s.c_str(), nullptr, 10);
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  const bool numeric = end == s.c_str() + s.size() && errno == 0 && std::isfinite(d) &&
                       s.find_first_of("xXnN") == std::string::npos;
  if (numeric) return d;
  return s;
}

// Ends the parse at the first problem (thrown from the handler, caught below).
struct Refused {};

// Builds JSON from the parser's events: no node tree, no alias expansion, a depth bound.
class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(int max_depth, ValidationErrors& errors) : max_depth_(max_depth), errors_(errors) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) Fail(mark, "a second YAML document", "exactly one document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    CheckAnchor(mark, anchor);
    Put(mark, nullptr);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Fail(mark, "an alias", "YAML without anchors and aliases");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    CheckAnchor(mark, anchor);
    CheckTag(mark, tag);
    Frame* top = frames_.empty() ? nullptr : &frames_.back();
    if (top != nullptr && top->value.is_object() && !top->key) {
      if (top->keys.count(value) != 0) {
        errors_.Add(Child(top->pointer, value), "duplicate key",
                    "each key at most once in an object");
        throw Refused{};
      }
      top->keys.insert(value);
      top->key = value;
      return;
    }
    Put(mark, tag == "!" ? nlohmann::ordered_json(value) : PlainScalar(value));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, nlohmann::ordered_json::array());
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, nlohmann::ordered_json::object());
  }
  void OnMapEnd() override { Close(); }

  std::optional<nlohmann::ordered_json> result;

 private:
  struct Frame {
    nlohmann::ordered_json value;
    std::string pointer;
    std::optional<std::string> key;  // objects: the key whose value comes next
    std::set<std::string> keys;
  };

  [[noreturn]] void Fail(const YAML::Mark& mark, const std::string& found,
                         const std::string& allowed) {
    errors_.AddSyntax(mark.line + 1, mark.column + 1, found, allowed);
    throw Refused{};
  }
  void CheckAnchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) Fail(mark, "an anchor", "YAML without anchors and aliases");
  }
  void CheckTag(const YAML::Mark& mark, const std::string& tag) {
    if (!tag.empty() && tag != "?" && tag != "!") Fail(mark, "tag " + tag, "YAML without tags");
  }
  // The pointer of the value that comes next.
  std::string NextPointer(const YAML::Mark& mark) {
    if (frames_.empty()) return "";
    Frame& top = frames_.back();
    if (top.value.is_array()) return top.pointer + "/" + std::to_string(top.value.size());
    if (!top.key) Fail(mark, "a key that is not a scalar", "scalar keys");
    return Child(top.pointer, *top.key);
  }
  void Put(const YAML::Mark& mark, nlohmann::ordered_json value) {
    if (frames_.empty()) {
      result = std::move(value);
      return;
    }
    Frame& top = frames_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else {
      if (!top.key) Fail(mark, "a key that is not a scalar", "scalar keys");
      top.value[*top.key] = std::move(value);
      top.key.reset();
    }
  }
  void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
            nlohmann::ordered_json empty) {
    CheckAnchor(mark, anchor);
    CheckTag(mark, tag);
    if (static_cast<int>(frames_.size()) >= max_depth_) {
      errors_.Add("", "nesting deeper than " + std::to_string(max_depth_) + " levels",
                  "at most " + std::to_string(max_depth_) + " levels of arrays and objects");
      throw Refused{};
    }
    std::string pointer = NextPointer(mark);
    frames_.push_back({std::move(empty), std::move(pointer), std::nullopt, {}});
    marks_.push_back(mark);
  }
  void Close() {
    Frame done = std::move(frames_.back());
    frames_.pop_back();
    const YAML::Mark mark = marks_.back();
    marks_.pop_back();
    Put(mark, std::move(done.value));
  }

  int max_depth_;
  ValidationErrors& errors_;
  int documents_ = 0;
  std::vector<Frame> frames_;
  std::vector<YAML::Mark> marks_;
};

}  // namespace

std::optional<nlohmann::ordered_json> ParseYamlDocument(const std::string& text, int max_depth,
                                                        ValidationErrors& errors) {
  JsonBuilder builder(max_depth, errors);
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const Refused&) {
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    errors.AddSyntax(e.mark.line + 1, e.mark.column + 1, "syntax error",
                     e.msg.empty() ? std::string("invalid YAML") : e.msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    errors.Add("", "unreadable YAML", std::string("valid YAML (") + e.what() + ")");
    return std::nullopt;
  }
  if (!builder.result) {
    errors.Add("", "empty file", "a YAML mapping");
    return std::nullopt;
  }
  return std::move(builder.result);
}

bool IsYamlPath(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto ends = [&](const std::string& suffix) {
    return lower.size() >= suffix.size() &&
           lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

}  // namespace ringfence
