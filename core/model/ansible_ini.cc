// The INI reader of Ansible inventories (core/model/ansible_tree.h), as Ansible's ini plugin
// reads them: hosts before any section are ungrouped; [group] (or [group:hosts]) lists hosts
// with key=value variables, [group:children] child groups, [group:vars] key=value variables;
// a line starting with # or ; is a comment.

#include <map>

#include "core/model/ansible_tree.h"
#include "core/model/inventory.h"

namespace ringfence::ansible {

namespace {

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

// A group name as Ansible's ini plugin takes one: no ':', ']' or blank.
bool GroupName(const std::string& s) {
  return !s.empty() && s.find_first_of(":] \t[") == std::string::npos;
}

// After a name, only blanks and a # comment.
bool OnlyComment(const std::string& rest) {
  const std::string t = Trim(rest);
  return t.empty() || t[0] == '#';
}

constexpr char kLineAllowed[] =
    "a host line (pattern [key=value ...]), a [group], [group:vars] or [group:children] "
    "header, or a comment";

class IniReader {
 public:
  IniReader(Tree& tree, ValidationErrors& errors) : tree_(tree), errors_(errors) {}

  void Read(const std::string& text) {
    size_t start = 0;
    int line = 0;
    while (start <= text.size() && errors_.size() < kMaxErrors) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++line;
      Line(text.substr(start, end - start), line);
      start = end + 1;
    }
    // A group named only by [x:vars] or under [y:children] must be declared somewhere.
    for (const auto& [name, where] : pending_) {
      if (declared_.count(name) != 0) continue;
      errors_.AddSyntax(
          where.line, 1, where.found,
          "a group declared with a [" + name + "] or [" + name + ":children] section");
    }
    // Children are attached once every group is known, in the order they were written.
    for (const auto& c : children_) {
      std::string cycle;
      if (!tree_.AddChild(c.parent, c.child, cycle)) {
        errors_.AddSyntax(c.line, 1,
                          Quoted(c.child) + " under [" + c.parent + ":children] (" + cycle + ")",
                          "groups without a cycle");
      }
    }
  }

 private:
  static constexpr size_t kMaxErrors = 100;

  struct Pending {
    int line = 0;
    std::string found;
  };
  struct ChildLink {
    std::string parent, child;
    int line = 0;
  };

  void Line(const std::string& raw, int line) {
    const std::string s = Trim(raw);
    if (s.empty() || s[0] == '#' || s[0] == ';') return;
    if (s[0] == '[') return Header(s, line);
    if (state_ == "hosts") return HostLine(s, line);
    if (state_ == "children") return ChildLine(s, line);
    VarLine(s, line);
  }

  void Header(const std::string& s, int line) {
    const size_t close = s.find(']');
    const std::string inside = close == std::string::npos ? "" : s.substr(1, close - 1);
    const size_t colon = inside.find(':');
    const std::string name = inside.substr(0, colon);
    const std::string type = colon == std::string::npos ? "hosts" : inside.substr(colon + 1);
    if (close == std::string::npos || !GroupName(name) || !OnlyComment(s.substr(close + 1))) {
      return errors_.AddSyntax(line, 1, Quoted(s), kLineAllowed);
    }
    if (type != "hosts" && type != "children" && type != "vars") {
      return errors_.AddSyntax(line, 1, Quoted(s),
                               "a section of type hosts, children or vars ([" + name + ":" + type +
                                   "] has type " + Quoted(type) + ")");
    }
    if (tree_.groups().size() >= kMaxAnsibleGroups && !tree_.HasGroup(name)) {
      return errors_.AddSyntax(line, 1, Quoted(s), "at most 10000 groups");
    }
    group_ = name;
    state_ = type;
    tree_.AddGroup(name, line);
    if (type != "vars") {
      declared_.insert(name);
    } else {
      pending_.emplace(name, Pending{line, "[" + name + ":vars] of an undeclared group"});
    }
  }

  void HostLine(const std::string& s, int line) {
    auto words = SplitWords(s, true);
    if (!words.ok()) {
      return errors_.AddSyntax(
          line, 1, Quoted(s), "a host line (pattern [key=value ...]): " + words.status().message());
    }
    if (words->empty()) return;
    auto pattern = ExpandHostPattern((*words)[0]);
    if (!pattern.ok()) {
      return errors_.AddSyntax(line, 1, Quoted((*words)[0]), pattern.status().message());
    }
    Vars vars;
    for (size_t i = 1; i < words->size(); ++i) {
      const std::string& w = (*words)[i];
      const size_t eq = w.find('=');
      if (eq == std::string::npos || eq == 0) {
        return errors_.AddSyntax(line, 1, Quoted(w),
                                 "a host variable key=value after the host pattern");
      }
      const std::string value = w.substr(eq + 1);
      if (IsVaulted(value)) {
        return errors_.AddSyntax(line, 1, "a vaulted value of " + w.substr(0, eq), kVaultAllowed);
      }
      vars[w.substr(0, eq)] = Var{IniValue(value), line};
    }
    if (pattern->port != 0) vars["ansible_port"] = Var{pattern->port, line};
    for (const auto& name : pattern->names) {
      Host* host = tree_.AddHost(name, line);
      if (host == nullptr) {
        return errors_.AddSyntax(line, 1, Quoted((*words)[0]), "at most 10000 hosts in all");
      }
      for (const auto& [k, v] : vars) host->vars[k] = v;
      // Hosts before any section are ungrouped.
      tree_.AddHostToGroup(group_, name);
    }
  }

  void ChildLine(const std::string& s, int line) {
    const size_t end = s.find_first_of(" \t#");
    const std::string child = s.substr(0, end);
    if (!GroupName(child) || (end != std::string::npos && !OnlyComment(s.substr(end)))) {
      return errors_.AddSyntax(line, 1, Quoted(s), "a group name under [" + group_ + ":children]");
    }
    if (tree_.groups().size() >= kMaxAnsibleGroups && !tree_.HasGroup(child)) {
      return errors_.AddSyntax(line, 1, Quoted(s), "at most 10000 groups");
    }
    tree_.AddGroup(child, line);
    pending_.emplace(child, Pending{line, Quoted(child) + " under [" + group_ +
                                              ":children], a group never declared"});
    children_.push_back({group_, child, line});
  }

  void VarLine(const std::string& s, int line) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos) {
      return errors_.AddSyntax(line, 1, Quoted(s), "key=value under [" + group_ + ":vars]");
    }
    const std::string key = Trim(s.substr(0, eq));
    const std::string value = Trim(s.substr(eq + 1));
    if (key.empty()) {
      return errors_.AddSyntax(line, 1, Quoted(s), "key=value under [" + group_ + ":vars]");
    }
    if (IsVaulted(value)) {
      return errors_.AddSyntax(line, 1, "a vaulted value of " + key, kVaultAllowed);
    }
    SetGroupVar(tree_.groups().at(group_), key, IniValue(value), line);
  }

  Tree& tree_;
  ValidationErrors& errors_;
  std::string group_ = "ungrouped";
  std::string state_ = "hosts";
  std::set<std::string> declared_ = {"all", "ungrouped"};
  std::map<std::string, Pending> pending_;  // the first place each group was named
  std::vector<ChildLink> children_;
};

}  // namespace

void ReadIniInventory(const std::string& text, Tree& tree, ValidationErrors& errors) {
  tree.AddGroup("all", 0);
  tree.AddGroup("ungrouped", 0);
  IniReader(tree, errors).Read(text);
}

}  // namespace ringfence::ansible
