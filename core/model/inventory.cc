#include "core/model/inventory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/base/input_file.h"

namespace ringfence {

namespace {

constexpr char kNameAllowed[] = "a host name of letters, digits, '.', '_' and '-'";
constexpr char kAddressAllowed[] =
    "an IP address or host name (letters, digits, '.', ':', '_', '-'; not starting with '-')";
constexpr char kUserAllowed[] =
    "a user name (letters, digits, '.', '_', '-'; not starting with '-')";
constexpr char kPortAllowed[] = "an integer from 1 to 65535";
constexpr char kPathAllowed[] = "a non-empty path";

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

bool OnlyChars(const std::string& s, const char* extra) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr(extra, c) != nullptr;
  });
}

// Names and addresses end up on ssh's command line: nothing that could read as an option.
bool SafeWord(const std::string& s, const char* extra) {
  return OnlyChars(s, extra) && s[0] != '-';
}

// "~/x" is under $HOME (as ssh reads it); other relative paths under the inventory's directory.
std::string Absolute(const std::string& path, const std::string& base_dir) {
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : "") + path.substr(1);
  }
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// The host keys that may appear in `hosts[i]` and in `defaults`.
const std::vector<std::string> kHostKeys = {"name", "address",       "port",
                                            "user", "identity_file", "known_hosts",
                                            "tags", "binary",        "state_dir"};
const std::vector<std::string> kDefaultKeys = {"port",        "user",   "identity_file",
                                               "known_hosts", "binary", "state_dir"};

class InventoryReader {
 public:
  InventoryReader(const std::string& base_dir, bool check_files, ValidationErrors& errors)
      : base_dir_(base_dir), check_files_(check_files), errors_(errors) {}

  Inventory Read(const nlohmann::json& doc, const std::string& pointer) {
    Inventory inv;
    if (!doc.is_object()) {
      errors_.Add(pointer, FoundValue(doc), "an inventory object with hosts");
      return inv;
    }
    for (const auto& [key, value] : doc.items()) {
      if (key != "hosts" && key != "defaults" && key != "ssh") {
        errors_.Add(Child(pointer, key), kFoundUnknownKey, OneOf({"hosts", "defaults", "ssh"}));
      }
    }
    InventoryHost defaults;
    if (auto it = doc.find("defaults"); it != doc.end()) {
      const std::string at = Child(pointer, "defaults");
      if (!it->is_object()) {
        errors_.Add(at, FoundValue(*it), "an object");
      } else {
        ReadHostFields(*it, at, kDefaultKeys, defaults);
      }
    }
    if (auto it = doc.find("ssh"); it != doc.end()) ReadSsh(*it, Child(pointer, "ssh"), inv.ssh);
    auto hosts = doc.find("hosts");
    const std::string hosts_at = Child(pointer, "hosts");
    if (hosts == doc.end()) {
      errors_.Add(hosts_at, kFoundMissing, "an array of at least one host");
      return inv;
    }
    if (!hosts->is_array() || hosts->empty() || hosts->size() > kMaxInventoryHosts) {
      errors_.Add(hosts_at, FoundValue(*hosts), "an array of 1 to 10000 hosts");
      return inv;
    }
    std::map<std::string, std::string> names;  // name → pointer of its host
    for (size_t i = 0; i < hosts->size(); ++i) {
      const std::string at = hosts_at + "/" + std::to_string(i);
      const nlohmann::json& h = (*hosts)[i];
      if (!h.is_object()) {
        errors_.Add(at, FoundValue(h), "a host object");
        continue;
      }
      InventoryHost host = defaults;
      const size_t before = errors_.size();
      ReadHostFields(h, at, kHostKeys, host);
      for (const char* key : {"name", "address"}) {
        if (!h.contains(key)) {
          errors_.Add(Child(at, key), kFoundMissing,
                      std::string(key) == "name" ? kNameAllowed : kAddressAllowed);
        }
      }
      if (!host.name.empty()) {
        auto [it, inserted] = names.emplace(host.name, at);
        if (!inserted) {
          errors_.Add(Child(at, "name"), FoundValue(nlohmann::json(host.name)),
                      "a name not used by another host (" + it->second + " uses it)");
        }
      }
      if (errors_.size() == before) inv.hosts.push_back(std::move(host));
    }
    return inv;
  }

 private:
  void ReadHostFields(const nlohmann::json& obj, const std::string& at,
                      const std::vector<std::string>& keys, InventoryHost& host) {
    // Not a structured binding: clang 14 refuses one captured by the lambda below.
    for (const auto& item : obj.items()) {
      const std::string& key = item.key();
      const nlohmann::json& v = item.value();
      const std::string p = Child(at, key);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        errors_.Add(p, kFoundUnknownKey, OneOf(keys));
        continue;
      }
      auto str = [&]() -> const std::string* {
        return v.is_string() ? &v.get_ref<const std::string&>() : nullptr;
      };
      if (key == "name") {
        if (!str() || !SafeWord(*str(), "._-")) {
          errors_.Add(p, FoundValue(v), kNameAllowed);
        } else {
          host.name = *str();
        }
      } else if (key == "address") {
        if (!str() || !SafeWord(*str(), ".:_-")) {
          errors_.Add(p, FoundValue(v), kAddressAllowed);
        } else {
          host.address = *str();
        }
      } else if (key == "port") {
        const bool integral =
            v.is_number_integer() ||
            (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
        const double n = v.is_number() ? v.get<double>() : 0;
        if (!integral || n < 1 || n > 65535) {
          errors_.Add(p, FoundValue(v), kPortAllowed);
        } else {
          host.port = static_cast<int>(n);
        }
      } else if (key == "user") {
        if (!str() || !SafeWord(*str(), "._-")) {
          errors_.Add(p, FoundValue(v), kUserAllowed);
        } else {
          host.user = *str();
        }
      } else if (key == "tags") {
        if (!v.is_object()) {
          errors_.Add(p, FoundValue(v), "an object of tag names to string values");
          continue;
        }
        for (const auto& [tag, value] : v.items()) {
          if (!value.is_string()) {
            errors_.Add(Child(p, tag), FoundValue(value), "a string");
          } else {
            host.tags[tag] = value.get<std::string>();
          }
        }
      } else {  // identity_file, known_hosts, binary, state_dir: paths
        if (!str() || str()->empty()) {
          errors_.Add(p, FoundValue(v), kPathAllowed);
          continue;
        }
        if (key == "identity_file") {
          host.identity_file = Absolute(*str(), base_dir_);
          CheckReadable(host.identity_file, v, p);
        } else if (key == "known_hosts") {
          host.known_hosts = Absolute(*str(), base_dir_);
          CheckReadable(host.known_hosts, v, p);
        } else if (key == "binary") {
          // A bare name is looked up in the remote PATH; a path is taken as it is.
          host.binary = *str();
        } else {
          host.state_dir = *str();
        }
      }
    }
  }

  void CheckReadable(const std::string& path, const nlohmann::json& found, const std::string& p) {
    if (!check_files_) return;
    // O_NONBLOCK: a FIFO named here must not block the runner.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
      errors_.Add(p, FoundValue(found),
                  std::string("a readable file (") + std::strerror(errno) + ")");
      return;
    }
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ::close(fd);
    if (!regular) errors_.Add(p, FoundValue(found), "a readable regular file");
  }

  void ReadSsh(const nlohmann::json& v, const std::string& p, SshSettings& ssh) {
    if (!v.is_object()) return errors_.Add(p, FoundValue(v), "an object");
    const std::vector<std::string> keys = {"strict_host_key_checking", "multiplex",
                                           "command_timeout", "connect_timeout"};
    for (const auto& [key, x] : v.items()) {
      const std::string at = Child(p, key);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        errors_.Add(at, kFoundUnknownKey, OneOf(keys));
      } else if (key == "strict_host_key_checking" || key == "multiplex") {
        if (!x.is_boolean()) {
          errors_.Add(at, FoundValue(x), "true or false");
        } else {
          (key == "multiplex" ? ssh.multiplex : ssh.strict_host_key_checking) = x.get<bool>();
        }
      } else {
        auto d = x.is_string() ? ParseDuration(x.get<std::string>())
                               : Result<Duration>(Status::InvalidInput("not a string"));
        if (!d.ok() || d->count() < 100 || *d > std::chrono::hours(1)) {
          errors_.Add(at, FoundValue(x), std::string(kDurationAllowed) + " (100ms to 1h)");
        } else {
          (key == "command_timeout" ? ssh.command_timeout : ssh.connect_timeout) = *d;
        }
      }
    }
  }

  std::string base_dir_;
  bool check_files_;
  ValidationErrors& errors_;
};

}  // namespace

std::string InventoryHost::Describe() const {
  return name + " (" + user + "@" + address + ":" + std::to_string(port) + ")";
}

const InventoryHost* Inventory::Find(const std::string& name) const {
  for (const auto& h : hosts) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

std::vector<const InventoryHost*> Inventory::WithTags(
    const std::map<std::string, std::string>& tags) const {
  std::vector<const InventoryHost*> out;
  for (const auto& h : hosts) {
    bool all = true;
    for (const auto& [k, v] : tags) {
      auto it = h.tags.find(k);
      if (it == h.tags.end() || it->second != v) all = false;
    }
    if (all) out.push_back(&h);
  }
  return out;
}

std::string DescribeTags(const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return "all hosts";
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

Inventory ParseInventory(const nlohmann::json& doc, const std::string& base_dir,
                         const std::string& pointer, ValidationErrors& errors, bool check_files) {
  return InventoryReader(base_dir, check_files, errors).Read(doc, pointer);
}

std::optional<Inventory> LoadInventoryFile(const std::string& path, ValidationErrors& errors,
                                           bool* unreadable) {
  InputFileRefusal refusal;
  Result<std::string> text = ReadCommandLineInput(path, kMaxInventoryBytes, "JSON file", &refusal);
  if (unreadable != nullptr) *unreadable = !text.ok();
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  // Nesting deeper than an inventory ever needs is refused as the parser meets it.
  constexpr int kMaxInventoryDepth = 64;
  bool too_deep = false;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(
        *text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
          const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                             event == nlohmann::json::parse_event_t::array_start;
          if (opens && depth >= kMaxInventoryDepth) too_deep = true;
          return !too_deep;
        });
  } catch (const nlohmann::json::out_of_range& e) {  // 406: "number overflow parsing '1e400'"
    std::string what = e.what();
    if (const size_t end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    errors.Add("", what, "numbers from -1.7976931348623157e308 to 1.7976931348623157e308");
    return std::nullopt;
  } catch (const nlohmann::json::parse_error& e) {
    // Line and column of the byte the parser stopped at.
    const std::string& t = *text;
    const size_t pos = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, t.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i) {
      if (t[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    errors.AddSyntax(line, static_cast<int>(pos - line_start + 1), "syntax error", "valid JSON");
    return std::nullopt;
  }
  if (too_deep) {
    errors.Add("", "nesting deeper than 64 levels", "at most 64 levels of arrays and objects");
    return std::nullopt;
  }
  const size_t before = errors.size();
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(path, ec).parent_path().string();
  Inventory inv = ParseInventory(doc, dir, "", errors);
  inv.source = path;
  if (errors.size() != before) return std::nullopt;
  return inv;
}

}  // namespace ringfence
