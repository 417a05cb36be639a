#include "core/model/ansible_inventory.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>

#include "core/model/ansible_tree.h"

namespace ringfence {

namespace ansible {

// ---- The tree ---------------------------------------------------------------------------------

Group& Tree::AddGroup(const std::string& name, int line) {
  auto [it, inserted] = groups_.try_emplace(name);
  if (inserted) {
    it->second.name = name;
    it->second.line = line;
  }
  return it->second;
}

Host* Tree::AddHost(const std::string& name, int line) {
  auto it = hosts_.find(name);
  if (it != hosts_.end()) return &it->second;
  if (hosts_.size() >= kMaxInventoryHosts) return nullptr;
  Host& h = hosts_[name];
  h.name = name;
  h.line = line;
  host_order_.push_back(name);
  return &h;
}

void Tree::AddHostToGroup(const std::string& group, const std::string& host) {
  std::vector<std::string>& hosts = groups_.at(group).hosts;
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
}

bool Tree::Reaches(const std::string& from, const std::string& to,
                   std::vector<std::string>& path) const {
  // Iterative depth-first search: a deep chain of groups must not exhaust the stack.
  std::set<std::string> seen;
  std::vector<std::pair<std::string, size_t>> stack = {{from, 0}};
  seen.insert(from);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (node == to) {
      for (const auto& frame : stack) path.push_back(frame.first);
      return true;
    }
    const std::vector<std::string>& children = groups_.at(node).children;
    if (next >= children.size()) {
      stack.pop_back();
      continue;
    }
    const std::string child = children[next++];
    if (seen.insert(child).second) stack.emplace_back(child, 0);
  }
  return false;
}

bool Tree::AddChild(const std::string& parent, const std::string& child, std::string& cycle) {
  Group& p = groups_.at(parent);
  if (std::find(p.children.begin(), p.children.end(), child) != p.children.end()) return true;
  std::vector<std::string> path;
  if (child == parent || Reaches(child, parent, path)) {
    cycle = parent;
    if (path.empty()) path.push_back(child);
    for (const auto& g : path) cycle += " → " + g;
    if (child == parent) cycle = parent + " → " + parent;
    return false;
  }
  p.children.push_back(child);
  groups_.at(child).parents.insert(parent);
  return true;
}

void SetGroupVar(Group& group, const std::string& key, nlohmann::json value, int line) {
  if (key == "ansible_group_priority") {
    if (value.is_number_integer()) {
      group.priority =
          static_cast<int>(std::clamp<long long>(value.get<long long>(), -1000000, 1000000));
      return;
    }
  }
  group.vars[key] = Var{std::move(value), line};
}

// ---- Host patterns ----------------------------------------------------------------------------

namespace {

constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr char kRangeAllowed[] = "a host pattern whose ranges expand ([01:20], [a:f], [1:9:2])";

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status RangeError(const std::string& why) {
  return Status::InvalidInput(std::string(kRangeAllowed) + ": " + why);
}

// Expands the first range of `pattern` and recurses into the rest, appending to `out`.
Status Expand(const std::string& pattern, std::vector<std::string>& out) {
  const size_t open = pattern.find('[');
  if (open == std::string::npos) {
    if (pattern.find(']') != std::string::npos) return RangeError("a ']' without its '['");
    out.push_back(pattern);
    return Status::Ok();
  }
  const size_t close = pattern.find(']', open);
  if (close == std::string::npos) return RangeError("a '[' without its ']'");
  const std::string head = pattern.substr(0, open);
  const std::string tail = pattern.substr(close + 1);
  std::vector<std::string> bounds;
  const std::string range = pattern.substr(open + 1, close - open - 1);
  size_t start = 0;
  while (true) {
    const size_t colon = range.find(':', start);
    bounds.push_back(range.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (bounds.size() != 2 && bounds.size() != 3) {
    return RangeError("[" + range + "] is not begin:end or begin:end:step");
  }
  std::string beg = bounds[0].empty() ? "0" : bounds[0];
  const std::string& end = bounds[1];
  if (end.empty()) return RangeError("[" + range + "] has no end");
  long long step = 1;
  if (bounds.size() == 3) {
    if (!AllDigits(bounds[2]) || std::stoll(bounds[2]) < 1) {
      return RangeError("the step of [" + range + "] is not a whole number of at least 1");
    }
    step = std::stoll(bounds[2]);
  }
  std::vector<std::string> values;
  const char* b = beg.size() == 1 ? std::strchr(kLetters, beg[0]) : nullptr;
  const char* e = end.size() == 1 ? std::strchr(kLetters, end[0]) : nullptr;
  if (b != nullptr && e != nullptr && beg[0] != '\0' && end[0] != '\0') {
    if (b > e) return RangeError("[" + range + "] begins after it ends");
    for (const char* c = b; c <= e; c += step) values.emplace_back(1, *c);
  } else if (AllDigits(beg) && AllDigits(end)) {
    const bool padded = beg[0] == '0' && beg.size() > 1;
    if (padded && beg.size() != end.size()) {
      return RangeError("[" + range + "] pads its begin but not its end to the same width");
    }
    const long long lo = std::stoll(beg), hi = std::stoll(end);
    if (lo > hi) return RangeError("[" + range + "] begins after it ends");
    if ((hi - lo) / step + 1 > static_cast<long long>(kMaxInventoryHosts)) {
      return RangeError("[" + range + "] has more than 10000 hosts");
    }
    for (long long v = lo; v <= hi; v += step) {
      std::string s = std::to_string(v);
      if (padded && s.size() < beg.size()) s.insert(0, beg.size() - s.size(), '0');
      values.push_back(s);
    }
  } else {
    return RangeError("[" + range + "] is not a range of numbers or of letters");
  }
  for (const auto& v : values) {
    if (out.size() > kMaxInventoryHosts) return RangeError("it has more than 10000 hosts");
    Status s = Expand(head + v + tail, out);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Result<HostPattern> ExpandHostPattern(const std::string& pattern) {
  HostPattern out;
  std::string body = pattern;
  size_t colon = std::string::npos;
  int depth = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '[') ++depth;
    if (body[i] == ']') --depth;
    if (body[i] == ':' && depth == 0) colon = i;
  }
  if (colon != std::string::npos) {
    const std::string port = body.substr(colon + 1);
    if (!AllDigits(port) || std::stoll(port) < 1 || std::stoll(port) > 65535) {
      return Status::InvalidInput("a host pattern with a port from 1 to 65535 after ':'");
    }
    out.port = static_cast<int>(std::stoll(port));
    body = body.substr(0, colon);
  }
  if (body.empty()) return Status::InvalidInput("a host name or pattern");
  Status s = Expand(body, out.names);
  if (!s.ok()) return s;
  if (out.names.size() > kMaxInventoryHosts) return RangeError("it has more than 10000 hosts");
  return out;
}

// ---- Values -----------------------------------------------------------------------------------

namespace {

// A Python integer literal (decimal without leading zeros, 0x, 0o, 0b; '_' between digits).
std::optional<long long> PythonInt(std::string s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s = s.substr(1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_' || s.find("__") != std::string::npos) {
    return std::nullopt;
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && std::strchr("xXoObB", s[1]) != nullptr) {
    base = std::strchr("xX", s[1]) ? 16 : std::strchr("oO", s[1]) ? 8 : 2;
    s = s.substr(2);
    if (!s.empty() && s[0] == '_') s = s.substr(1);
  } else if (s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string::npos) {
    return std::nullopt;  // 010 is a syntax error in Python 3
  }
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty() || s.size() > 64) return std::nullopt;
  const char* digits = base == 16  ? "0123456789abcdefABCDEF"
                       : base == 8 ? "01234567"
                       : base == 2 ? "01"
                                   : "0123456789";
  if (s.find_first_not_of(digits) != std::string::npos) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, base);
  if (errno == ERANGE || *end != '\0') return std::nullopt;
  return negative ? -v : v;
}

std::optional<double> PythonFloat(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string::npos) {
    return std::nullopt;
  }
  if (s.find_first_of("0123456789") == std::string::npos) return std::nullopt;
  if (s.find('.') == std::string::npos && s.find_first_of("eE") == std::string::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return v;
}

// A Python string literal in one pair of quotes, with the usual escapes.
std::optional<std::string> PythonString(const std::string& s) {
  if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0]) return std::nullopt;
  const char q = s[0];
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == q) return std::nullopt;  // two literals side by side: kept as text
    if (c == '\\' && i + 2 < s.size()) {
      const char n = s[++i];
      switch (n) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
        case '\'':
        case '"':
          out += n;
          break;
        default:
          out += '\\';
          out += n;
      }
      continue;
    }
    out += c;
  }
  return out;
}

std::optional<nlohmann::json> JsonForm(const std::string& s) {
  constexpr int kMaxDepth = 64;
  bool too_deep = false;
  auto parse = [&](const std::string& text) -> std::optional<nlohmann::json> {
    nlohmann::json v = nlohmann::json::parse(
        text,
        [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > kMaxDepth) too_deep = true;
          return !too_deep;
        },
        false);
    if (v.is_discarded() || too_deep) return std::nullopt;
    return v;
  };
  if (auto v = parse(s)) return v;
  if (s.find('"') == std::string::npos && !too_deep) {
    std::string d = s;
    std::replace(d.begin(), d.end(), '\'', '"');
    return parse(d);
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json IniValue(const std::string& text) {
  if (text == "True") return true;
  if (text == "False") return false;
  if (text == "None") return nullptr;
  if (auto i = PythonInt(text)) return *i;
  if (auto f = PythonFloat(text)) return *f;
  if (auto s = PythonString(text)) return *s;
  if (!text.empty() && (text[0] == '[' || text[0] == '{')) {
    if (auto v = JsonForm(text)) return *v;
  }
  return text;
}

bool IsVaulted(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text.compare(first, 14, "$ANSIBLE_VAULT") == 0;
}

Result<std::vector<std::string>> SplitWords(const std::string& text, bool comments) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '#' && comments) {
      break;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Status::InvalidInput("no character after the last '\\'");
      word += text[++i];
      in_word = true;
    } else if (c == '\'' || c == '"') {
      const size_t close = [&] {
        for (size_t j = i + 1; j < text.size(); ++j) {
          if (c == '"' && text[j] == '\\' && j + 1 < text.size() &&
              (text[j + 1] == '"' || text[j + 1] == '\\')) {
            ++j;
            continue;
          }
          if (text[j] == c) return j;
        }
        return std::string::npos;
      }();
      if (close == std::string::npos) {
        return Status::InvalidInput(std::string("no closing quotation (") + c + ")");
      }
      for (size_t j = i + 1; j < close; ++j) {
        if (c == '"' && text[j] == '\\' && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
        word += text[j];
      }
      i = close;
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace ansible

// ---- From the tree to an inventory ------------------------------------------------------------

namespace {

using ansible::Group;
using ansible::Tree;
using ansible::Var;
using ansible::Vars;

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

// Variables never kept: ringfence logs in with keys (BatchMode), and a password must not reach a
// template, a plan or a journal.
bool IsPasswordVar(const std::string& key) {
  static const std::set<std::string> kPasswords = {
      "ansible_password",      "ansible_ssh_pass",        "ansible_ssh_password",
      "ansible_become_pass",   "ansible_become_password", "ansible_sudo_pass",
      "ansible_sudo_password", "ansible_su_pass",         "ansible_su_password"};
  return kPasswords.count(key) != 0;
}

// Ansible's implicit groups: every group without a parent is a child of all; a host in no group
// but all is in ungrouped, and a host in another group is not.
void AddImplicitGroups(Tree& tree, ValidationErrors& errors) {
  tree.AddGroup("all", 0);
  tree.AddGroup("ungrouped", 0);
  for (auto& [name, group] : tree.groups()) {
    if (name == "all" || !group.parents.empty()) continue;
    std::string cycle;
    if (!tree.AddChild("all", name, cycle)) {
      errors.AddSyntax(group.line, 1, "group " + Quoted(name) + " (" + cycle + ")",
                       "groups without a cycle");
    }
  }
  std::map<std::string, std::set<std::string>> direct;
  for (const auto& [name, group] : tree.groups()) {
    for (const auto& h : group.hosts) direct[h].insert(name);
  }
  Group& ungrouped = tree.groups().at("ungrouped");
  for (const auto& host : tree.host_order()) {
    std::set<std::string>& in = direct[host];
    in.erase("all");
    const bool listed = in.erase("ungrouped") != 0;
    if (!in.empty() && listed) {
      ungrouped.hosts.erase(std::find(ungrouped.hosts.begin(), ungrouped.hosts.end(), host));
    } else if (in.empty() && !listed) {
      ungrouped.hosts.push_back(host);
    }
  }
}

// Each group's depth: the longest path from all (Ansible's Group.depth).
std::map<std::string, int> Depths(const Tree& tree) {
  std::map<std::string, int> depth;
  // Groups in an order where parents come first (the tree has no cycle).
  std::map<std::string, size_t> waiting;
  std::vector<std::string> ready;
  for (const auto& [name, group] : tree.groups()) {
    waiting[name] = group.parents.size();
    if (group.parents.empty()) ready.push_back(name);
  }
  while (!ready.empty()) {
    const std::string g = ready.back();
    ready.pop_back();
    const int d = depth[g];
    for (const auto& child : tree.groups().at(g).children) {
      depth[child] = std::max(depth[child], d + 1);
      if (--waiting[child] == 0) ready.push_back(child);
    }
  }
  return depth;
}

// The groups of each host, directly or through children.
std::map<std::string, std::set<std::string>> HostGroups(const Tree& tree) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [name, group] : tree.groups()) {
    for (const auto& h : group.hosts) {
      std::vector<std::string> todo = {name};
      std::set<std::string>& in = out[h];
      while (!todo.empty()) {
        const std::string g = todo.back();
        todo.pop_back();
        if (!in.insert(g).second) continue;
        for (const auto& p : tree.groups().at(g).parents) todo.push_back(p);
      }
    }
  }
  return out;
}

// A scalar variable as a tag value; nullopt for null, lists and dicts.
std::optional<std::string> TagValue(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

struct SshOptionRule {
  const char* key;
  const char* refusal;  // nullptr: in the safe subset
};

constexpr char kRunsCommand[] = "it runs a command on the runner";
constexpr char kHostKeys[] =
    "ringfence checks host keys itself (name the known_hosts file with UserKnownHostsFile or "
    "ringfence_known_hosts)";
constexpr char kMultiplexing[] = "ringfence runs its own connection multiplexing";
constexpr char kForwards[] = "it forwards ports, the agent or X11 beyond the host";
constexpr char kIdentity[] = "use ansible_ssh_private_key_file";
constexpr char kRunnerSets[] = "ringfence sets it itself";
constexpr char kConnection[] = "use ansible_host, ansible_port and ansible_user";

const std::vector<SshOptionRule>& SshOptionRules() {
  static const std::vector<SshOptionRule> rules = {
      {"AddressFamily", nullptr},
      {"Ciphers", nullptr},
      {"Compression", nullptr},
      {"ConnectionAttempts", nullptr},
      {"HostKeyAlgorithms", nullptr},
      {"HostKeyAlias", nullptr},
      {"IPQoS", nullptr},
      {"KexAlgorithms", nullptr},
      {"MACs", nullptr},
      {"ProxyJump", nullptr},
      {"PubkeyAcceptedAlgorithms", nullptr},
      {"PubkeyAcceptedKeyTypes", nullptr},
      {"RekeyLimit", nullptr},
      {"TCPKeepAlive", nullptr},
      {"UserKnownHostsFile", nullptr},
      {"ProxyCommand", kRunsCommand},
      {"LocalCommand", kRunsCommand},
      {"PermitLocalCommand", kRunsCommand},
      {"KnownHostsCommand", kRunsCommand},
      {"RemoteCommand", kRunsCommand},
      {"Match", kRunsCommand},
      {"StrictHostKeyChecking", kHostKeys},
      {"GlobalKnownHostsFile", kHostKeys},
      {"UpdateHostKeys", kHostKeys},
      {"VerifyHostKeyDNS", kHostKeys},
      {"CheckHostIP", kHostKeys},
      {"ControlMaster", kMultiplexing},
      {"ControlPath", kMultiplexing},
      {"ControlPersist", kMultiplexing},
      {"LocalForward", kForwards},
      {"RemoteForward", kForwards},
      {"DynamicForward", kForwards},
      {"ForwardAgent", kForwards},
      {"ForwardX11", kForwards},
      {"ForwardX11Trusted", kForwards},
      {"Tunnel", kForwards},
      {"IdentityFile", kIdentity},
      {"IdentitiesOnly", kIdentity},
      {"CertificateFile", kIdentity},
      {"BatchMode", kRunnerSets},
      {"ConnectTimeout", kRunnerSets},
      {"LogLevel", kRunnerSets},
      {"ServerAliveInterval", kRunnerSets},
      {"ServerAliveCountMax", kRunnerSets},
      {"Hostname", kConnection},
      {"Port", kConnection},
      {"User", kConnection},
  };
  return rules;
}

// The flags ringfence takes as options, and those it refuses.
const std::map<std::string, std::string>& SshFlagOptions() {
  static const std::map<std::string, std::string> flags = {
      {"-4", "AddressFamily=inet"}, {"-6", "AddressFamily=inet6"}, {"-C", "Compression=yes"}};
  return flags;
}

bool SafeOptionValue(const std::string& key, const std::string& v) {
  if (key == "UserKnownHostsFile") {
    return !v.empty() && v[0] != '-' && v.find_first_of(" \t%$`\"'\\") == std::string::npos;
  }
  return IsSafeInventoryWord(v, "@._,:+-");
}

class HostBuilder {
 public:
  HostBuilder(const std::string& base_dir, bool check_files, ValidationErrors& errors)
      : base_dir_(base_dir), check_files_(check_files), errors_(errors) {}

  std::optional<InventoryHost> Build(const ansible::Host& source, const Vars& vars,
                                     const std::set<std::string>& groups) {
    InventoryHost host;
    host.name = source.name;
    host_ = &host;
    const size_t before = errors_.size();
    if (!IsSafeInventoryWord(source.name, "._-")) {
      errors_.AddSyntax(source.line, 1, "host " + Quoted(source.name), kInventoryNameAllowed);
      return std::nullopt;
    }
    host.address = source.name;
    host.groups.assign(groups.begin(), groups.end());
    for (const auto& [key, var] : vars) {
      line_ = var.line;
      key_ = key;
      const nlohmann::json& v = var.value;
      if (IsPasswordVar(key)) continue;
      host.vars[key] = v;
      if (key.rfind("ansible_", 0) != 0 && key.rfind("ringfence_", 0) != 0) {
        if (auto tag = TagValue(v)) host.tags[key] = *tag;
        continue;
      }
      if (key == "ansible_connection") {
        if (!v.is_string() || (v != "ssh" && v != "smart")) {
          Error(v, "ssh (ringfence reaches hosts over OpenSSH only)");
        }
      } else if (key == "ansible_host" || key == "ansible_ssh_host") {
        if (Word(v, ".:_-", kInventoryAddressAllowed)) host.address = v.get<std::string>();
      } else if (key == "ansible_port" || key == "ansible_ssh_port") {
        long long port = v.is_number_integer() ? v.get<long long>() : 0;
        if (v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() < 6 &&
            v.get<std::string>().find_first_not_of("0123456789") == std::string::npos) {
          port = std::stoll(v.get<std::string>());
        }
        if (port < 1 || port > 65535) {
          Error(v, kInventoryPortAllowed);
        } else {
          host.port = static_cast<int>(port);
        }
      } else if (key == "ansible_user" || key == "ansible_ssh_user") {
        if (Word(v, "._-", kInventoryUserAllowed)) host.user = v.get<std::string>();
      } else if (key == "ansible_ssh_private_key_file" || key == "ansible_private_key_file") {
        if (auto path = File(v)) host.identity_file = *path;
      } else if (key == "ringfence_known_hosts") {
        if (auto path = File(v)) host.known_hosts = *path;
      } else if (key == "ringfence_binary" || key == "ringfence_state_dir") {
        if (!v.is_string() || v.get<std::string>().empty()) {
          Error(v, "a non-empty path");
        } else {
          (key == "ringfence_binary" ? host.binary : host.state_dir) = v.get<std::string>();
        }
      } else if (key == "ansible_ssh_common_args" || key == "ansible_ssh_extra_args") {
        SshArgs(v);
      }
    }
    if (errors_.size() != before) return std::nullopt;
    return host;
  }

 private:
  void Error(const nlohmann::json& v, const std::string& allowed) {
    errors_.AddSyntax(line_, 1, "host " + host_->name + ": " + key_ + "=" + FoundValue(v), allowed);
  }

  bool Word(const nlohmann::json& v, const char* extra, const char* allowed) {
    if (!v.is_string() || !IsSafeInventoryWord(v.get<std::string>(), extra)) {
      Error(v, allowed);
      return false;
    }
    return true;
  }

  std::optional<std::string> File(const nlohmann::json& v) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      Error(v, "a non-empty path");
      return std::nullopt;
    }
    const std::string path = InventoryPath(v.get<std::string>(), base_dir_);
    if (check_files_) {
      if (std::string why = UnreadableFileReason(path); !why.empty()) {
        Error(v, why);
        return std::nullopt;
      }
    }
    return path;
  }

  void SshArgs(const nlohmann::json& v) {
    if (!v.is_string()) return Error(v, "a string of ssh options");
    auto words = ansible::SplitWords(v.get<std::string>(), false);
    if (!words.ok())
      return Error(v, "ssh options as a shell would split them (" + words.status().message() + ")");
    const std::vector<std::string>& w = *words;
    for (size_t i = 0; i < w.size(); ++i) {
      std::string option;
      if (auto flag = SshFlagOptions().find(w[i]); flag != SshFlagOptions().end()) {
        option = flag->second;
      } else if (w[i] == "-o" || w[i] == "-J") {
        if (i + 1 >= w.size()) return Refuse(w[i], "the option's value is missing");
        const bool jump = w[i] == "-J";
        option = (jump ? "ProxyJump=" : "") + w[i + 1];
        ++i;
      } else if (w[i].rfind("-o", 0) == 0 || w[i].rfind("-J", 0) == 0) {
        option = (w[i][1] == 'J' ? "ProxyJump=" : "") + w[i].substr(2);
      } else {
        return Refuse(w[i], "only -o Key=Value, -J, -4, -6 and -C are read");
      }
      const size_t sep = option.find_first_of("= \t");
      const std::string key = option.substr(0, sep);
      std::string value =
          sep == std::string::npos
              ? ""
              : option.substr(option.find_first_not_of("= \t", sep) == std::string::npos
                                  ? option.size()
                                  : option.find_first_not_of("= \t", sep));
      const SshOptionRule* rule = nullptr;
      for (const auto& r : SshOptionRules()) {
        if (strcasecmp(r.key, key.c_str()) == 0) rule = &r;
      }
      if (rule == nullptr) return Refuse(option, "it is not in the safe subset");
      if (rule->refusal != nullptr) return Refuse(option, rule->refusal);
      if (!SafeOptionValue(rule->key, value)) {
        return Refuse(option, "its value has a character outside letters, digits and @._,:+-");
      }
      if (std::string(rule->key) == "UserKnownHostsFile") {
        if (auto path = File(nlohmann::json(value))) host_->known_hosts = *path;
        continue;
      }
      host_->ssh_options.push_back(std::string(rule->key) + "=" + value);
    }
  }

  void Refuse(const std::string& option, const std::string& why) {
    errors_.AddSyntax(line_, 1, "host " + host_->name + ": " + key_ + ": " + Quoted(option),
                      "an ssh option of the safe subset (docs/fleets.md): " + why);
  }

  std::string base_dir_;
  bool check_files_;
  ValidationErrors& errors_;
  InventoryHost* host_ = nullptr;
  int line_ = 0;
  std::string key_;
};

}  // namespace

std::optional<AnsibleFormat> AnsibleFormatOf(const std::string& path) {
  auto ends = [&](const std::string& suffix) {
    return path.size() > suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".ini")) return AnsibleFormat::kIni;
  if (ends(".yml") || ends(".yaml")) return AnsibleFormat::kYaml;
  return std::nullopt;
}

std::optional<Inventory> ParseAnsibleInventory(const std::string& text, AnsibleFormat format,
                                               const std::string& base_dir,
                                               ValidationErrors& errors, bool check_files) {
  const size_t before = errors.size();
  if (ansible::IsVaulted(text)) {
    errors.AddSyntax(1, 1, "an encrypted file ($ANSIBLE_VAULT)", ansible::kVaultAllowed);
    return std::nullopt;
  }
  Tree tree;
  if (format == AnsibleFormat::kIni) {
    ansible::ReadIniInventory(text, tree, errors);
  } else {
    ansible::ReadYamlInventory(text, tree, errors);
  }
  if (errors.size() != before) return std::nullopt;
  AddImplicitGroups(tree, errors);
  if (errors.size() != before) return std::nullopt;
  if (tree.host_order().empty()) {
    errors.AddSyntax(1, 1, "no hosts", "an inventory of at least one host");
    return std::nullopt;
  }
  const std::map<std::string, int> depth = Depths(tree);
  const auto host_groups = HostGroups(tree);
  Inventory inv;
  inv.groups.clear();
  for (const auto& [name, group] : tree.groups()) inv.groups.push_back(name);
  HostBuilder builder(base_dir, check_files, errors);
  for (const auto& name : tree.host_order()) {
    const ansible::Host& host = tree.hosts().at(name);
    const std::set<std::string>& in = host_groups.at(name);
    // Ansible's precedence: groups by depth, then ansible_group_priority, then name; the host's
    // own variables last.
    std::vector<const Group*> order;
    for (const auto& g : in) order.push_back(&tree.groups().at(g));
    std::sort(order.begin(), order.end(), [&](const Group* a, const Group* b) {
      return std::make_tuple(depth.at(a->name), a->priority, a->name) <
             std::make_tuple(depth.at(b->name), b->priority, b->name);
    });
    Vars vars;
    for (const Group* g : order) {
      for (const auto& [k, v] : g->vars) vars[k] = v;
    }
    for (const auto& [k, v] : host.vars) vars[k] = v;
    if (auto built = builder.Build(host, vars, in)) inv.hosts.push_back(std::move(*built));
  }
  if (errors.size() != before) return std::nullopt;
  return inv;
}

}  // namespace ringfence
