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

constexpr const char* kNameAllowed = kInventoryNameAllowed;
constexpr const char* kAddressAllowed = kInventoryAddressAllowed;
constexpr const char* kUserAllowed = kInventoryUserAllowed;
constexpr const char* kPortAllowed = kInventoryPortAllowed;
constexpr char kPathAllowed[] = "a non-empty path";

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

bool SafeWord(const std::string& s, const char* extra) { return IsSafeInventoryWord(s, extra); }

std::string Absolute(const std::string& path, const std::string& base_dir) {
  return InventoryPath(path, base_dir);
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
    if (std::string why = UnreadableFileReason(path); !why.empty()) {
      errors_.Add(p, FoundValue(found), why);
    }
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

bool IsSafeInventoryWord(const std::string& s, const char* extra) {
  return !s.empty() && s[0] != '-' && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && std::strchr(extra, c) != nullptr);
  });
}

std::string InventoryPath(const std::string& path, const std::string& base_dir) {
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : "") + path.substr(1);
  }
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

std::string UnreadableFileReason(const std::string& path) {
  // O_NONBLOCK: a FIFO named here must not block the runner.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::string("a readable file (") + std::strerror(errno) + ")";
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  return regular ? "" : "a readable regular file";
}

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

std::vector<const InventoryHost*> Inventory::InGroups(
    const std::vector<std::string>& groups, const std::map<std::string, std::string>& tags) const {
  std::vector<const InventoryHost*> out;
  for (const InventoryHost* h : WithTags(tags)) {
    const bool in = groups.empty() || std::any_of(groups.begin(), groups.end(), [&](const auto& g) {
                      return std::binary_search(h->groups.begin(), h->groups.end(), g);
                    });
    if (in) out.push_back(h);
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

}  // namespace ringfence
