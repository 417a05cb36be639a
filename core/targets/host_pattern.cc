#include "core/targets/host_pattern.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>

#include "core/base/regex.h"

namespace ringfence {

namespace {

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

// The longest pattern taken: a --limit is typed by a person.
constexpr size_t kMaxPatternChars = 4096;

// A shell glob (Python's fnmatch) as an RE2 regex matching the whole name.
std::string GlobRegex(const std::string& glob) {
  std::string re = "^(?:";
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      re += ".*";
    } else if (c == '?') {
      re += ".";
    } else if (c == '[' && glob.find(']', i + 2) != std::string::npos) {
      size_t j = i + 1;
      std::string set = "[";
      if (glob[j] == '!') {
        set += '^';
        ++j;
      }
      if (glob[j] == ']') {  // a ']' first is a member
        set += "\\]";
        ++j;
      }
      for (; j < glob.size() && glob[j] != ']'; ++j) {
        set += glob[j] == '\\' ? std::string("\\\\") : std::string(1, glob[j]);
      }
      if (j >= glob.size()) {  // no closing ']': a literal '['
        re += "\\[";
        continue;
      }
      re += set + "]";
      i = j;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
               static_cast<unsigned char>(c) >= 0x80) {
      re += c;
    } else {
      re += '\\';
      re += c;
    }
  }
  return re + ")$";
}

// Ansible's split_host_pattern: ',' separates when there is one, else ':' outside brackets.
std::vector<std::string> SplitTerms(const std::string& pattern) {
  std::vector<std::string> terms;
  std::string term;
  const bool commas = pattern.find(',') != std::string::npos;
  int depth = 0;
  for (char c : pattern) {
    if (!commas) {
      if (c == '[') ++depth;
      if (c == ']') depth = std::max(0, depth - 1);
    }
    if ((commas && c == ',') || (!commas && c == ':' && depth == 0)) {
      terms.push_back(term);
      term.clear();
    } else {
      term += c;
    }
  }
  terms.push_back(term);
  std::vector<std::string> out;
  for (auto& t : terms) {
    const size_t a = t.find_first_not_of(" \t");
    if (a == std::string::npos) continue;
    out.push_back(t.substr(a, t.find_last_not_of(" \t") - a + 1));
  }
  return out;
}

struct Subscript {
  long long start = 0;
  std::optional<long long> end;  // set: a range [start:end]
};

// Splits "web[0:2]" into "web" and its subscript ("~…" has none).
std::optional<Subscript> SplitSubscript(std::string& expr) {
  if (expr.empty() || expr[0] == '~' || expr.back() != ']') return std::nullopt;
  const size_t open = expr.rfind('[');
  if (open == std::string::npos || open == 0) return std::nullopt;
  const std::string inside = expr.substr(open + 1, expr.size() - open - 2);
  auto number = [](const std::string& s, bool sign) -> std::optional<long long> {
    std::string d = sign && !s.empty() && s[0] == '-' ? s.substr(1) : s;
    if (d.empty() || d.size() > 9 || d.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  };
  Subscript sub;
  if (auto i = number(inside, true)) {
    sub.start = *i;
  } else {
    const size_t sep = inside.find(':');
    if (sep == std::string::npos) return std::nullopt;
    auto a = number(inside.substr(0, sep), false);
    if (!a) return std::nullopt;
    const std::string b = inside.substr(sep + 1);
    auto e = b.empty() ? std::optional<long long>(-1) : number(b, false);
    if (!e) return std::nullopt;
    sub.start = *a;
    sub.end = *e;
  }
  expr = expr.substr(0, open);
  return sub;
}

class PatternMatcher {
 public:
  explicit PatternMatcher(const Inventory& inventory) : inv_(inventory) {}

  // The hosts one term matches, in the order Ansible lists them (a group's hosts, then its
  // children's); an error text (found: allowed) on failure.
  Result<std::vector<const InventoryHost*>> Term(std::string expr) {
    const std::optional<Subscript> sub = SplitSubscript(expr);
    const bool regex = !expr.empty() && expr[0] == '~';
    Regex re(regex ? "^(?:" + expr.substr(1) + ")" : GlobRegex(expr));
    if (!re.ok()) {
      // The user's own pattern names the error, not the anchored one built from it.
      const Regex own(regex ? expr.substr(1) : expr);
      return Status::InvalidInput(Quoted(expr) + ": " + "a regex RE2 compiles (" +
                                  (own.ok() ? re.error() : own.error()) + ")");
    }
    std::vector<const InventoryHost*> hosts;
    auto add = [&](const InventoryHost* h) {
      if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.push_back(h);
    };
    bool any_group = false;
    for (const auto& g : inv_.groups) {
      if (!re.Search(g)) continue;
      any_group = true;
      for (const auto* h : GroupHosts(g)) add(h);
    }
    const bool special = regex || expr.find_first_of(".?*[") != std::string::npos;
    if (!any_group || special) {
      for (const auto& h : inv_.hosts) {
        if (re.Search(h.name)) add(&h);
      }
    }
    if (!sub) return hosts;
    const long long n = static_cast<long long>(hosts.size());
    long long start = sub->start < 0 ? n + sub->start : sub->start;
    if (!sub->end || *sub->end == 0) {  // Ansible: [i], and [i:0] is [i]
      if (start < 0 || start >= n) return std::vector<const InventoryHost*>{};
      return std::vector<const InventoryHost*>{hosts[start]};
    }
    long long end = *sub->end == -1 ? n - 1 : *sub->end;
    std::vector<const InventoryHost*> out;
    for (long long i = std::max(0LL, start); i <= std::min(end, n - 1); ++i)
      out.push_back(hosts[i]);
    return out;
  }

 private:
  // The group's hosts as Ansible orders them: its own, then each generation of children's. An
  // InventoryHost knows its groups, not the order of children, so this is inventory order
  // within the group; the same for a group without children.
  std::vector<const InventoryHost*> GroupHosts(const std::string& group) const {
    std::vector<const InventoryHost*> out;
    for (const auto& h : inv_.hosts) {
      if (std::binary_search(h.groups.begin(), h.groups.end(), group)) out.push_back(&h);
    }
    return out;
  }

  const Inventory& inv_;
};

}  // namespace

Result<std::vector<const InventoryHost*>> MatchHostPattern(const Inventory& inventory,
                                                           const std::string& pattern) {
  const std::string allowed_syntax =
      "an Ansible host pattern (groups or hosts with * ? [..] or ~regex, joined by ':' or ',', "
      "'&' to intersect, '!' to exclude)";
  if (pattern.empty() || pattern.size() > kMaxPatternChars) {
    return Status::InvalidInput(FoundValue(nlohmann::json(pattern)) + ": " + allowed_syntax);
  }
  if (pattern[0] == '@') {
    return Status::InvalidInput(Quoted(pattern) + ": " + allowed_syntax +
                                " (a file of hosts after @ is not read)");
  }
  std::vector<std::string> terms = SplitTerms(pattern);
  if (terms.empty()) return Status::InvalidInput(Quoted(pattern) + ": " + allowed_syntax);
  // Ansible's order: the union first, then the intersections, then the exclusions; "all" when
  // there is no plain term.
  std::vector<std::string> plain, both, minus;
  for (const auto& t : terms) {
    if (t[0] == '&' || t[0] == '!') {
      if (t.size() == 1) return Status::InvalidInput(Quoted(pattern) + ": " + allowed_syntax);
      (t[0] == '&' ? both : minus).push_back(t.substr(1));
    } else {
      plain.push_back(t);
    }
  }
  if (plain.empty()) plain.push_back("all");
  PatternMatcher matcher(inventory);
  std::set<const InventoryHost*> selected;
  for (const auto& t : plain) {
    auto hosts = matcher.Term(t);
    if (!hosts.ok()) return hosts.status();
    selected.insert(hosts->begin(), hosts->end());
  }
  for (const auto& t : both) {
    auto hosts = matcher.Term(t);
    if (!hosts.ok()) return hosts.status();
    std::set<const InventoryHost*> keep(hosts->begin(), hosts->end());
    std::erase_if(selected, [&](const InventoryHost* h) { return keep.count(h) == 0; });
  }
  for (const auto& t : minus) {
    auto hosts = matcher.Term(t);
    if (!hosts.ok()) return hosts.status();
    for (const auto* h : *hosts) selected.erase(h);
  }
  std::vector<const InventoryHost*> out;
  for (const auto& h : inventory.hosts) {
    if (selected.count(&h) != 0) out.push_back(&h);
  }
  if (out.empty()) {
    return Status::InvalidInput(Quoted(pattern) +
                                ": a pattern that matches at least one host of the inventory " +
                                inventory.source);
  }
  return out;
}

Status LimitInventory(Inventory& inventory, const std::string& pattern) {
  auto matched = MatchHostPattern(inventory, pattern);
  if (!matched.ok()) return matched.status();
  std::set<std::string> keep;
  for (const auto* h : *matched) keep.insert(h->name);
  std::erase_if(inventory.hosts, [&](const InventoryHost& h) { return keep.count(h.name) == 0; });
  return Status::Ok();
}

}  // namespace ringfence
