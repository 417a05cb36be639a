// The YAML reader of Ansible inventories (core/model/ansible_tree.h), as Ansible's yaml plugin
// reads them: top-level keys are groups; a group has hosts (pattern → variables), vars and
// children (name → group); scalars are typed as YAML 1.1 (PyYAML) types them.

#include <yaml-cpp/yaml.h>

#include "core/base/regex.h"
#include "core/model/ansible_tree.h"
#include "core/model/inventory.h"

namespace ringfence::ansible {

namespace {

constexpr int kMaxDepth = 64;
// Aliases may share a node many times over: every visit counts.
constexpr size_t kMaxNodeVisits = 1000000;

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

// The nesting depth of a YAML text, bounded before yaml-cpp (which recurses) sees it: block
// indentation levels, "- " markers and flow brackets. Returns the first line past kMaxDepth, 0
// when none is.
int FirstTooDeepLine(const std::string& text) {
  std::vector<size_t> indents;
  int flow = 0;
  int line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line;
    const std::string s = text.substr(start, end - start);
    start = end + 1;
    const size_t first = s.find_first_not_of(' ');
    if (first == std::string::npos || s[first] == '#') continue;
    if (flow == 0) {
      while (!indents.empty() && indents.back() >= first) indents.pop_back();
      indents.push_back(first);
    }
    int dashes = 0;
    for (size_t i = first; i + 1 < s.size() && s[i] == '-' && s[i + 1] == ' ';) {
      ++dashes;
      i = s.find_first_not_of(' ', i + 1);
      if (i == std::string::npos) break;
    }
    char quote = 0;
    for (size_t i = first; i < s.size(); ++i) {
      const char c = s[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '#' && i > 0 && s[i - 1] == ' ') {
        break;
      } else if (c == '[' || c == '{') {
        ++flow;
        if (flow + static_cast<int>(indents.size()) + dashes > kMaxDepth) return line;
      } else if (c == ']' || c == '}') {
        flow = std::max(0, flow - 1);
      }
    }
    if (flow + static_cast<int>(indents.size()) + dashes > kMaxDepth) return line;
  }
  return 0;
}

const Regex& IntPattern() {
  static const Regex r(
      "^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$");
  return r;
}
const Regex& FloatPattern() {
  static const Regex r(
      "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?)$");
  return r;
}

// A plain scalar as YAML 1.1 types it.
nlohmann::json PlainScalar(const std::string& s) {
  static const std::set<std::string> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> kTrue = {"yes",  "Yes", "YES", "true", "True",
                                              "TRUE", "on",  "On",  "ON"};
  static const std::set<std::string> kFalse = {"no",    "No",  "NO",  "false", "False",
                                               "FALSE", "off", "Off", "OFF"};
  if (kNull.count(s) != 0) return nullptr;
  if (kTrue.count(s) != 0) return true;
  if (kFalse.count(s) != 0) return false;
  if (s.size() <= 64 && IntPattern().Search(s)) {
    std::string t = s;
    t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
    bool negative = false;
    if (t[0] == '-' || t[0] == '+') {
      negative = t[0] == '-';
      t = t.substr(1);
    }
    int base = 10;
    if (t.size() > 1 && t[0] == '0') {
      base = t[1] == 'x' ? 16 : t[1] == 'b' ? 2 : 8;
      t = t.substr(base == 8 ? 1 : 2);
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, base);
    if (errno != ERANGE && end != nullptr && *end == '\0') return negative ? -v : v;
    return s;
  }
  if (s.size() <= 64 && FloatPattern().Search(s)) {
    std::string t = s;
    t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
    return std::strtod(t.c_str(), nullptr);
  }
  return s;
}

class YamlReader {
 public:
  YamlReader(Tree& tree, ValidationErrors& errors) : tree_(tree), errors_(errors) {}

  void Read(const std::string& text) {
    if (int line = FirstTooDeepLine(text); line != 0) {
      return errors_.AddSyntax(line, 1, "nesting deeper than 64 levels",
                               "at most 64 levels of mappings and sequences");
    }
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return errors_.AddSyntax(e.mark.line + 1, e.mark.column + 1, "syntax error (" + e.msg + ")",
                               "valid YAML");
    }
    try {
      Top(doc);
    } catch (const YAML::Exception& e) {  // not expected: the walk only reads what it checked
      errors_.AddSyntax(e.mark.line + 1, e.mark.column + 1, e.msg, "valid YAML");
    }
  }

 private:
  static int Line(const YAML::Node& n) { return n.Mark().line + 1; }
  static int Column(const YAML::Node& n) { return n.Mark().column + 1; }

  void Error(const YAML::Node& at, const std::string& found, const std::string& allowed) {
    errors_.AddSyntax(Line(at), Column(at), found, allowed);
  }

  bool Visit(const YAML::Node& at) {
    if (++visits_ <= kMaxNodeVisits) return true;
    if (visits_ == kMaxNodeVisits + 1) {
      Error(at, "more than 1000000 nodes (aliases included)", "a smaller inventory");
    }
    return false;
  }

  // A key of a mapping as text; an error for anything but a scalar.
  std::optional<std::string> Key(const YAML::Node& key) {
    if (!key.IsScalar()) {
      Error(key, "a mapping or sequence as a key", "a name");
      return std::nullopt;
    }
    return key.Scalar();
  }

  void Top(const YAML::Node& doc) {
    if (!doc.IsMap()) {
      return errors_.AddSyntax(doc.IsDefined() && !doc.IsNull() ? Line(doc) : 1, 1,
                               doc.IsNull() || !doc.IsDefined()
                                   ? "an empty document"
                                   : "a document that is not a mapping",
                               "a mapping of group names (all: {hosts: …, children: …, vars: …})");
    }
    {
      for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == "plugin") {
          return Error(
              it->first,
              "plugin: " + FoundValue(nlohmann::json(it->second.IsScalar() ? it->second.Scalar()
                                                                           : std::string("…"))),
              "a static inventory (ringfence does not run inventory plugins: save "
              "their output with ansible-inventory --list --yaml and use that file)");
        }
      }
    }
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      auto name = Key(it->first);
      if (!name) continue;
      GroupAt(*name, it->first, it->second, 1);
    }
  }

  // Declares the group `name` (its key at `key`) with `data` under it; false on error.
  bool GroupAt(const std::string& name, const YAML::Node& key, const YAML::Node& data, int depth) {
    if (!Visit(key)) return false;
    if (name.empty() || name.find_first_of(":] \t[") != std::string::npos) {
      Error(key, "group " + Quoted(name), "a group name without ':', '[', ']' or blanks");
      return false;
    }
    if (depth > kMaxDepth) {
      Error(key, "groups nested deeper than 64 levels", "at most 64 levels of children");
      return false;
    }
    if (tree_.groups().size() >= kMaxAnsibleGroups && !tree_.HasGroup(name)) {
      Error(key, "group " + Quoted(name), "at most 10000 groups");
      return false;
    }
    Group& group = tree_.AddGroup(name, Line(key));
    (void)group;
    if (data.IsNull()) return true;
    if (!data.IsMap()) {
      Error(data, "group " + name + ": " + Kind(data), "a mapping with hosts, vars or children");
      return false;
    }
    bool ok = true;
    for (auto it = data.begin(); it != data.end(); ++it) {
      auto section = Key(it->first);
      if (!section) continue;
      const YAML::Node v = it->second;  // a copy: it-> is a temporary proxy
      if (*section != "hosts" && *section != "vars" && *section != "children") {
        Error(it->first, "group " + name + ": unknown key " + Quoted(*section),
              "one of hosts, vars, children");
        ok = false;
        continue;
      }
      if (v.IsNull()) continue;
      if (*section == "hosts" && v.IsScalar()) {  // `hosts: web1` is {web1: null}
        ok = Hosts(name, {{v.Scalar(), v, YAML::Node()}}) && ok;
        continue;
      }
      if (!v.IsMap()) {
        Error(v, "group " + name + ": " + *section + " is " + Kind(v), "a mapping");
        ok = false;
        continue;
      }
      if (*section == "vars") {
        for (auto var = v.begin(); var != v.end(); ++var) {
          auto key_name = Key(var->first);
          if (!key_name) continue;
          auto value = Value(var->second, *key_name, 1);
          if (!value) {
            ok = false;
            continue;
          }
          SetGroupVar(tree_.groups().at(name), *key_name, *value, Line(var->first));
        }
      } else if (*section == "children") {
        for (auto child = v.begin(); child != v.end(); ++child) {
          auto child_name = Key(child->first);
          if (!child_name || !GroupAt(*child_name, child->first, child->second, depth + 1)) {
            ok = false;
            continue;
          }
          std::string cycle;
          if (!tree_.AddChild(name, *child_name, cycle)) {
            Error(child->first,
                  Quoted(*child_name) + " under " + name + ": children (" + cycle + ")",
                  "groups without a cycle");
            ok = false;
          }
        }
      } else {
        std::vector<HostEntry> hosts;
        for (auto h = v.begin(); h != v.end(); ++h) {
          if (auto pattern = Key(h->first)) hosts.push_back({*pattern, h->first, h->second});
        }
        ok = Hosts(name, hosts) && ok;
      }
    }
    return ok;
  }

  struct HostEntry {
    std::string pattern;
    YAML::Node key, data;
  };

  bool Hosts(const std::string& group, const std::vector<HostEntry>& hosts) {
    bool ok = true;
    for (const HostEntry& entry : hosts) {
      const std::string& pattern_text = entry.pattern;
      const YAML::Node& key = entry.key;
      const YAML::Node& data = entry.data;
      if (!Visit(key)) return false;
      auto pattern = ExpandHostPattern(pattern_text);
      if (!pattern.ok()) {
        Error(key, Quoted(pattern_text), pattern.status().message());
        ok = false;
        continue;
      }
      Vars vars;
      if (data.IsDefined() && !data.IsNull()) {
        if (!data.IsMap()) {
          Error(data, "host " + pattern_text + ": " + Kind(data),
                "a mapping of host variables, or nothing");
          ok = false;
          continue;
        }
        for (auto var = data.begin(); var != data.end(); ++var) {
          auto name = Key(var->first);
          if (!name) continue;
          auto value = Value(var->second, *name, 1);
          if (!value) {
            ok = false;
            continue;
          }
          vars[*name] = Var{*value, Line(var->first)};
        }
      }
      if (pattern->port != 0) vars["ansible_port"] = Var{pattern->port, Line(key)};
      for (const auto& name : pattern->names) {
        Host* host = tree_.AddHost(name, Line(key));
        if (host == nullptr) {
          Error(key, Quoted(pattern_text), "at most 10000 hosts in all");
          return false;
        }
        for (const auto& [k, v] : vars) host->vars[k] = v;
        tree_.AddHostToGroup(group, name);
      }
    }
    return ok;
  }

  static std::string Kind(const YAML::Node& n) {
    if (n.IsScalar()) return FoundValue(nlohmann::json(n.Scalar()));
    if (n.IsSequence()) return "a sequence";
    if (n.IsMap()) return "a mapping";
    return "nothing";
  }

  // A variable's value as JSON; vaulted values and unknown tags are refused.
  std::optional<nlohmann::json> Value(const YAML::Node& n, const std::string& name, int depth) {
    if (!Visit(n)) return std::nullopt;
    if (depth > kMaxDepth) {
      Error(n, "nesting deeper than 64 levels", "at most 64 levels of mappings and sequences");
      return std::nullopt;
    }
    const std::string& tag = n.Tag();
    if (tag == "!vault" || (n.IsScalar() && IsVaulted(n.Scalar()))) {
      Error(n, "a vaulted value of " + name, kVaultAllowed);
      return std::nullopt;
    }
    const bool known_tag = tag.empty() || tag == "?" || tag == "!" || tag == "!unsafe" ||
                           tag.rfind("tag:yaml.org,2002:", 0) == 0;
    if (!known_tag) {
      Error(n, "the tag " + tag + " on " + name, "plain YAML values (no application tags)");
      return std::nullopt;
    }
    if (n.IsNull()) return nlohmann::json(nullptr);
    if (n.IsScalar()) {
      if (tag == "?") return PlainScalar(n.Scalar());
      if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
          tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
        return PlainScalar(n.Scalar());
      }
      return nlohmann::json(n.Scalar());  // quoted, !unsafe, !!str
    }
    if (n.IsSequence()) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : n) {
        auto v = Value(item, name, depth + 1);
        if (!v) return std::nullopt;
        out.push_back(std::move(*v));
      }
      return out;
    }
    nlohmann::json out = nlohmann::json::object();
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto key = Key(it->first);
      if (!key) return std::nullopt;
      auto v = Value(it->second, name, depth + 1);
      if (!v) return std::nullopt;
      out[*key] = std::move(*v);
    }
    return out;
  }

  Tree& tree_;
  ValidationErrors& errors_;
  size_t visits_ = 0;
};

}  // namespace

void ReadYamlInventory(const std::string& text, Tree& tree, ValidationErrors& errors) {
  tree.AddGroup("all", 0);
  tree.AddGroup("ungrouped", 0);
  YamlReader(tree, errors).Read(text);
}

}  // namespace ringfence::ansible
