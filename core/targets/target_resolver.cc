#include "core/targets/target_resolver.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

namespace ringfence {

namespace {

// A pidfile is small; anything longer than this is not one.
constexpr size_t kMaxPidfileBytes = 4096;

// Never throws: a pidfile's bytes or a command line need not be UTF-8.
std::string Quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<pid_t> ReadPidfile(const std::string& path) {
  const std::string what = "pidfile " + path;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, what);
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return Status::FromErrno(err, what);
    }
    if (n == 0 || text.size() > kMaxPidfileBytes) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string trimmed =
      first == std::string::npos ? "" : text.substr(first, last - first + 1);
  const auto not_a_pid = [&] {
    std::string shown = trimmed.size() > 40 ? trimmed.substr(0, 40) + "…" : trimmed;
    return Status::InvalidInput(what + ": " + Quoted(shown) + ": not a process id");
  };
  if (!AllDigits(trimmed) || trimmed.size() > 10) return not_a_pid();
  const long long pid = std::stoll(trimmed);
  if (pid <= 0 || pid > INT_MAX) return not_a_pid();
  return static_cast<pid_t>(pid);
}

// A user name (looked up with getpwnam_r) or a numeric uid.
Result<uid_t> ResolveUser(const std::string& user) {
  if (AllDigits(user) && user.size() <= 10) {
    const long long uid = std::stoll(user);
    if (uid <= static_cast<long long>(UINT_MAX)) return static_cast<uid_t>(uid);
  }
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = 0;
  // ERANGE: the entry does not fit; retry with a larger buffer (bounded).
  while ((rc = getpwnam_r(user.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (found != nullptr) return entry.pw_uid;
  if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
    return Status::InvalidInput("user " + Quoted(user) + ": no such user");
  }
  return Status::FromErrno(rc, "user " + Quoted(user));
}

}  // namespace

std::string DescribeSelector(const ProcessSelector& selector) {
  std::string text;
  if (selector.pid)
    text = "pid " + std::to_string(*selector.pid);
  else if (selector.pidfile)
    text = "pidfile " + *selector.pidfile;
  else if (selector.name)
    text = "name " + Quoted(*selector.name);
  else if (selector.cmdline)
    text = "cmdline " + Quoted(selector.cmdline->pattern());
  else
    text = "an empty selector";
  if (selector.user) text += " and user " + Quoted(*selector.user);
  return text;
}

std::vector<size_t> SampleIndices(std::mt19937_64& rng, size_t m, size_t k) {
  std::vector<size_t> indices(m);
  for (size_t i = 0; i < m; ++i) indices[i] = i;
  if (k < m) {
    for (size_t i = 0; i < k; ++i) {
      const size_t j = i + static_cast<size_t>(UniformIndex(rng, m - i));
      std::swap(indices[i], indices[j]);
    }
    indices.resize(k);
  }
  return indices;
}

uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  // Rejects the lowest (2^64 mod n) outputs so that every residue is equally likely.
  const uint64_t threshold = (0 - n) % n;
  uint64_t x = rng();
  while (x < threshold) x = rng();
  return x % n;
}

Result<std::vector<ProcessInfo>> MatchProcesses(ProcessTable& table,
                                                const ProcessSelector& selector,
                                                const std::vector<pid_t>& excluded) {
  std::optional<uid_t> uid;
  if (selector.user) {
    auto resolved = ResolveUser(*selector.user);
    if (!resolved.ok()) return resolved.status();
    uid = *resolved;
  }

  std::vector<ProcessInfo> candidates;
  if (selector.pid || selector.pidfile) {
    pid_t pid = 0;
    if (selector.pid) {
      pid = *selector.pid;
    } else {
      auto read = ReadPidfile(*selector.pidfile);
      if (!read.ok()) return read.status();
      pid = *read;
    }
    auto info = table.Get(pid);
    if (info.ok())
      candidates.push_back(std::move(info.value()));
    else if (info.status().code() != StatusCode::kNotFound)
      return info.status();
  } else if (selector.name || selector.cmdline) {
    // Compiled once, when the selector was built (RE2: linear in the command line's length).
    const Regex* pattern = selector.cmdline ? &*selector.cmdline : nullptr;
    if (pattern && !pattern->ok()) {
      return Status::InvalidInput("cmdline " + Quoted(pattern->pattern()) +
                                  ": not a valid regular expression: " + pattern->error());
    }
    auto all = table.List();
    if (!all.ok()) return all.status();
    for (auto& p : *all) {
      if (selector.name && p.name != *selector.name) continue;
      if (pattern && !pattern->Search(p.cmdline)) continue;
      candidates.push_back(std::move(p));
    }
  } else {
    return Status::InvalidInput("a process selector needs one of pid, pidfile, name or cmdline");
  }

  const pid_t self = getpid();
  std::vector<ProcessInfo> matches;
  for (auto& p : candidates) {
    if (p.pid == 1 || p.pid == self || p.state == 'Z') continue;
    if (std::find(excluded.begin(), excluded.end(), p.pid) != excluded.end()) continue;
    if (uid && p.uid != *uid) continue;
    matches.push_back(std::move(p));
  }
  std::sort(matches.begin(), matches.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  return matches;
}

Result<std::vector<Target>> SelectTargets(const TargetSpec& spec,
                                          const std::vector<ProcessInfo>& matches,
                                          std::mt19937_64& rng) {
  const size_t m = matches.size();
  if (m == 0) {
    if (spec.allow_empty) return std::vector<Target>{};
    return Status::NotFound(spec.pointer + ": no process matches " +
                            DescribeSelector(spec.process));
  }
  if (spec.max_targets > 0 && m > static_cast<size_t>(spec.max_targets)) {
    return Status::InvalidInput(
        spec.pointer + ": " + DescribeSelector(spec.process) + " matches " + std::to_string(m) +
        " processes: at most settings.max_targets (" + std::to_string(spec.max_targets) +
        "); narrow the selector, or raise settings.max_targets or --max-targets");
  }

  size_t k = m;
  switch (spec.select.mode) {
    case SelectionMode::kAll:
      break;
    case SelectionMode::kCount:
      if (spec.select.count < 1) {
        return Status::InvalidInput(
            spec.pointer + "/select/count: " + std::to_string(spec.select.count) + ": at least 1");
      }
      if (static_cast<size_t>(spec.select.count) > m) {
        return Status::InvalidInput(spec.pointer +
                                    "/select/count: " + std::to_string(spec.select.count) +
                                    ": at most the " + std::to_string(m) +
                                    (m == 1 ? " process that matches" : " processes that match"));
      }
      k = static_cast<size_t>(spec.select.count);
      break;
    case SelectionMode::kPercent: {
      // percent * m first: 7 * 100 / 100 is exactly 7, where 0.07 * 100 is not.
      const double exact = spec.select.percent * static_cast<double>(m) / 100.0;
      const double rounded = std::ceil(exact - 1e-9);
      k = rounded < 1 ? 1 : std::min(m, static_cast<size_t>(rounded));
      break;
    }
  }

  const std::vector<size_t> indices = SampleIndices(rng, m, k);

  std::vector<Target> targets;
  targets.reserve(k);
  for (size_t i : indices) {
    Target t;
    t.process = matches[i];
    t.label = "pid " + std::to_string(t.process.pid) + " (" + t.process.name + ")";
    targets.push_back(std::move(t));
  }
  std::stable_sort(targets.begin(), targets.end(),
                   [](const Target& a, const Target& b) { return a.process.pid < b.process.pid; });
  return targets;
}

Result<std::vector<Target>> ResolveTargets(ProcessTable& table, const TargetSpec& spec,
                                           std::mt19937_64& rng,
                                           const std::vector<pid_t>& excluded) {
  auto matches = MatchProcesses(table, spec.process, excluded);
  if (!matches.ok()) {
    return Status::Error(matches.status().code(), spec.pointer + ": " + matches.status().message());
  }
  return SelectTargets(spec, *matches, rng);
}

}  // namespace ringfence
