#include "core/ledger/file_ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/base/checked_json.h"
#include "core/base/clock.h"
#include "core/ledger/state_dir.h"

namespace ringfence {

namespace {

constexpr size_t kMacHex = 64;
constexpr off_t kMaxLedgerBytes = off_t{64} << 20;

std::string Mac(const std::string& key, const std::string& run_id, const std::string& json) {
  const std::string message = run_id + "\n" + json;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

bool IsHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

int64_t UnixMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Status WriteAll(int fd, const std::string& text, const std::string& what) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, what);
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool SafeRunId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// The state dir, key and run id of the ledger at `path` (`<state>/runs/<run id>.ledger`).
struct LedgerPlace {
  StateDir dir;
  std::string key;
  std::string run_id;
  std::string name;  // "<run id>.ledger"
};

Result<LedgerPlace> PlaceOf(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string name = p.filename().string();
  const std::string run_id = p.stem().string();
  if (p.extension() != ".ledger" || p.parent_path().filename() != "runs" || !SafeRunId(run_id)) {
    return Status::InvalidInput("ledger " + path + ": not <state dir>/runs/<run id>.ledger");
  }
  std::string state = p.parent_path().parent_path().string();
  if (state.empty()) state = ".";
  auto dir = StateDir::Open(state, false);
  if (!dir.ok()) return dir.status();
  if (dir->runs_fd() < 0) return Status::NotFound("ledger " + path + ": no such file");
  return LedgerPlace{std::move(*dir), "", run_id, name};
}

// The key, read after the ledger file itself was checked (its faults are named first).
Status LoadKey(LedgerPlace& place, const std::string& path) {
  auto key = place.dir.LedgerKey(false);
  if (!key.ok()) {
    if (key.status().code() != StatusCode::kNotFound) return key.status();
    return Status::Error(StatusCode::kPermission,
                         "ledger " + path +
                             ": cannot be authenticated: the state dir has no ledger key (" +
                             place.dir.path() + "/ledger.key)");
  }
  place.key = std::move(*key);
  return Status::Ok();
}

Result<std::string> ReadFd(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "ledger " + path);
  if (st.st_size > kMaxLedgerBytes) {
    return Status::Error(StatusCode::kPermission,
                         "ledger " + path + ": larger than 64 MiB; not read");
  }
  std::string text;
  char buf[65536];
  off_t off = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "ledger " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
    if (off > kMaxLedgerBytes) {
      return Status::Error(StatusCode::kPermission,
                           "ledger " + path + ": larger than 64 MiB; not read");
    }
  }
  return text;
}

// The members each record type may carry, and their types. Others are ignored.
enum class Kind { kString, kUnsigned, kInteger, kBool };
struct Member {
  const char* type;  // record type, or "" for every type
  const char* key;
  Kind kind;
};
constexpr Member kMembers[] = {
    {"", "at", Kind::kInteger},
    {"run", "run_id", Kind::kString},
    {"run", "title", Kind::kString},
    {"run", "file", Kind::kString},
    {"run", "inventory", Kind::kString},
    {"run", "runner_pid", Kind::kUnsigned},
    {"run", "runner_start_ticks", Kind::kUnsigned},
    {"run", "started_at", Kind::kString},
    {"run", "runner", Kind::kString},
    {"run", "host", Kind::kString},
    {"run", "role", Kind::kString},
    {"watchdog", "event", Kind::kString},
    {"watchdog", "pid", Kind::kUnsigned},
    {"watchdog", "start_ticks", Kind::kUnsigned},
    {"watchdog", "reason", Kind::kString},
    {"watchdog", "ok", Kind::kBool},
    {"watchdog", "grace_ms", Kind::kInteger},
    {"end", "status", Kind::kString},
    {"end", "reverted_cleanly", Kind::kBool},
    {"intent", "id", Kind::kUnsigned},
    {"reverted", "id", Kind::kUnsigned},
    {"reverted", "by", Kind::kString},
};

Status CheckMembers(const nlohmann::json& rec, const std::string& type) {
  for (const auto& m : kMembers) {
    if (*m.type != '\0' && type != m.type) continue;
    if (!rec.contains(m.key)) continue;
    Status st;
    switch (m.kind) {
      case Kind::kString:
        st = CheckedString(rec, m.key, "").status();
        break;
      case Kind::kUnsigned:
        st = CheckedUnsigned(rec, m.key, "").status();
        break;
      case Kind::kInteger:
        st = CheckedInteger(rec, m.key, "").status();
        break;
      case Kind::kBool:
        st = CheckedBool(rec, m.key, "").status();
        break;
    }
    if (!st.ok()) return st;
  }
  for (const char* pid : {"pid", "runner_pid"}) {
    if (rec.contains(pid) && rec[pid].is_number_unsigned() &&
        rec[pid].get<uint64_t>() > INT32_MAX) {
      return WrongType(std::string("/") + pid, rec[pid], "a process id");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<LedgerContents> ParseLedgerText(const std::string& text, const std::string& path,
                                       const std::string& key, const std::string& run_id) {
  LedgerContents out;
  out.path = path;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    const bool last = nl == std::string::npos;
    std::string line = text.substr(pos, last ? std::string::npos : nl - pos);
    pos = last ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string at = "line " + std::to_string(line_no) + ": ";
    auto problem = [&](const std::string& what) {
      if (last) {
        out.torn_tail = true;  // a crash mid-write: the record was never acknowledged
      } else {
        out.problems.push_back(at + what);
      }
    };
    if (line.size() < kMacHex + 2 || line[kMacHex] != ' ' || !IsHex(line.substr(0, kMacHex))) {
      if (line.size() >= 10 && line[8] == ' ' && IsHex(line.substr(0, 8))) {
        problem("not authenticated: a ledger version 1 line (CRC-32 only); not trusted");
      } else {
        problem("not a ledger record");
      }
      continue;
    }
    const std::string json = line.substr(kMacHex + 1);
    const std::string mac = Mac(key, run_id, json);
    if (CRYPTO_memcmp(mac.data(), line.data(), kMacHex) != 0) {
      problem("authentication failed: not written with this state dir's ledger key; not trusted");
      continue;
    }
    // A last line with an intact MAC but no newline lost only its newline: it is whole.
    nlohmann::json rec = nlohmann::json::parse(json, nullptr, false);
    if (rec.is_discarded()) {
      problem("not JSON");
      continue;
    }
    if (!rec.is_object()) {
      problem(WrongType("/", rec, "an object").message());
      continue;
    }
    auto v = CheckedUnsigned(rec, "v", "");
    if (!v.ok()) {
      problem(v.status().message());
      continue;
    }
    if (*v > static_cast<uint64_t>(kLedgerVersion)) {
      problem("written by a newer ringfence (ledger version " + std::to_string(*v) +
              "); this one reads version " + std::to_string(kLedgerVersion));
      continue;
    }
    auto type = CheckedString(rec, "type", "");
    if (!type.ok()) {
      problem(type.status().message());
      continue;
    }
    if (Status members = CheckMembers(rec, *type); !members.ok()) {
      problem(members.message());
      continue;
    }
    if (*type == "run") {
      out.run = rec;
    } else if (*type == "watchdog") {
      out.watchdog = rec;
      out.watchdog_events.push_back(rec);
    } else if (*type == "end") {
      out.end = rec;
    } else if (*type == "intent") {
      auto id = CheckedUnsigned(rec, "id", "");
      if (!id.ok()) {
        problem(id.status().message());
        continue;
      }
      auto undo_json = CheckedObject(rec, "undo", "", false);
      auto undo = undo_json.ok() ? UndoRecord::Parse(*undo_json, "/undo")
                                 : Result<UndoRecord>(undo_json.status());
      if (!undo.ok()) {
        problem(undo.status().message());
        continue;
      }
      LedgerContents::Entry e;
      e.id = *id;
      e.undo = std::move(*undo);
      out.entries.push_back(std::move(e));
    } else if (*type == "reverted") {
      auto id = CheckedUnsigned(rec, "id", "");
      if (!id.ok()) {
        problem(id.status().message());
        continue;
      }
      bool found = false;
      for (auto& e : out.entries) {
        if (e.id == *id) {
          e.reverted = true;
          e.reverted_by = rec.value("by", "runner");
          found = true;
        }
      }
      if (!found) out.problems.push_back(at + "reverts unknown entry " + std::to_string(*id));
    } else {
      out.problems.push_back(at + "unknown record type \"" + *type + "\"");
    }
  }
  return out;
}

std::string LedgerLine(const nlohmann::json& record, const std::string& key,
                       const std::string& run_id) {
  return SealedLedgerText(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                          key, run_id) +
         "\n";
}

std::string SealedLedgerText(const std::string& json, const std::string& key,
                             const std::string& run_id) {
  return Mac(key, run_id, json) + " " + json;
}

std::vector<const LedgerContents::Entry*> LedgerContents::Outstanding() const {
  std::vector<const Entry*> out;
  for (const auto& e : entries) {
    if (!e.reverted) out.push_back(&e);
  }
  return out;
}

Result<LedgerContents> ReadLedger(const std::string& path) {
  auto place = PlaceOf(path);
  if (!place.ok()) return place.status();
  auto fd = OpenOwnerOnlyFile("ledger", path);
  if (!fd.ok()) return fd.status();
  if (Status key = LoadKey(*place, path); !key.ok()) {
    ::close(*fd);
    return key;
  }
  auto text = ReadFd(*fd, path);
  ::close(*fd);
  if (!text.ok()) return text.status();
  return ParseLedgerText(*text, path, place->key, place->run_id);
}

std::string LedgerPath(const std::string& state_dir, const std::string& run_id) {
  return state_dir + "/runs/" + run_id + ".ledger";
}

std::vector<std::string> ListLedgers(const std::string& state_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(state_dir + "/runs", ec)) {
    if (e.path().extension() == ".ledger") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string DefaultStateDir() {
  if (::geteuid() == 0) return "/var/lib/ringfence";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/ringfence";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/state/ringfence";
}

Result<std::unique_ptr<FileLedger>> FileLedger::Create(const std::string& state_dir,
                                                       const std::string& run_id,
                                                       const nlohmann::json& run_record,
                                                       const SecretValues& secrets, Clock& clock) {
  if (!SafeRunId(run_id))
    return Status::InvalidInput("run id \"" + run_id + "\": not a safe file name");
  auto dir = StateDir::Open(state_dir, true);
  if (!dir.ok()) return dir.status();
  auto key = dir->LedgerKey(true);
  if (!key.ok()) return key.status();
  const std::string path = LedgerPath(state_dir, run_id);
  auto fd = dir->OpenInRuns("ledger", run_id + ".ledger", O_WRONLY | O_CREAT | O_EXCL | O_APPEND);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<FileLedger> ledger(
      new FileLedger(path, *fd, 1, std::move(*key), run_id, secrets, clock));
  nlohmann::json rec = run_record;
  rec["type"] = "run";
  rec["run_id"] = run_id;
  Status st = ledger->Append(rec);
  if (st.ok() && ::fsync(dir->runs_fd()) != 0)
    st = Status::FromErrno(errno, "runs dir " + state_dir + "/runs");
  if (!st.ok()) return st;
  return ledger;
}

Result<std::unique_ptr<FileLedger>> FileLedger::OpenForAppend(const std::string& path,
                                                              const SecretValues& secrets,
                                                              Clock& clock) {
  auto place = PlaceOf(path);
  if (!place.ok()) return place.status();
  auto opened = place->dir.OpenInRuns("ledger", place->name, O_RDWR | O_APPEND);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("ledger " + path + ": no such file");
    }
    return opened.status();
  }
  const int fd = *opened;
  if (Status key = LoadKey(*place, path); !key.ok()) {
    ::close(fd);
    return key;
  }
  auto text = ReadFd(fd, path);
  if (!text.ok()) {
    ::close(fd);
    return text.status();
  }
  auto contents = ParseLedgerText(*text, path, place->key, place->run_id);
  if (!contents.ok()) {
    ::close(fd);
    return contents.status();
  }
  if (!text->empty() && text->back() != '\n') {
    Status w = WriteAll(fd, "\n", "ledger " + path);
    if (!w.ok()) {
      ::close(fd);
      return w;
    }
  }
  uint64_t next = 1;
  for (const auto& e : contents->entries) next = std::max(next, e.id + 1);
  std::unique_ptr<FileLedger> ledger(
      new FileLedger(path, fd, next, std::move(place->key), place->run_id, secrets, clock));
  for (const auto& e : contents->entries) {
    ledger->intents_.emplace_back(e.id, e.undo);
    if (e.reverted) ledger->reverted_.push_back(e.id);
  }
  return ledger;
}

FileLedger::~FileLedger() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileLedger::AppendLocked(nlohmann::json record) {
  record["v"] = kLedgerVersion;
  if (!record.contains("at")) record["at"] = UnixMs(clock_.Now());
  Status st = WriteAll(fd_, LedgerLine(secrets_.Conceal(record), key_, run_id_), "ledger " + path_);
  if (!st.ok()) return st;
  if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "ledger " + path_ + ": fdatasync");
  return Status::Ok();
}

Status FileLedger::Append(nlohmann::json record) {
  std::lock_guard<std::mutex> lock(mu_);
  return AppendLocked(std::move(record));
}

Result<uint64_t> FileLedger::RecordIntent(const UndoRecord& undo) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_id_;
  Status st = AppendLocked({{"type", "intent"}, {"id", id}, {"undo", undo.ToJson()}});
  if (!st.ok()) return st;
  ++next_id_;
  intents_.emplace_back(id, undo);
  return id;
}

Status FileLedger::RecordReverted(uint64_t id) { return RecordRevertedBy(id, "runner"); }

Status FileLedger::RecordRevertedBy(uint64_t id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  Status st = AppendLocked({{"type", "reverted"}, {"id", id}, {"by", by}});
  if (st.ok()) reverted_.push_back(id);
  return st;
}

std::vector<std::pair<uint64_t, UndoRecord>> FileLedger::Outstanding() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<uint64_t, UndoRecord>> out;
  for (const auto& [id, undo] : intents_) {
    if (std::find(reverted_.begin(), reverted_.end(), id) == reverted_.end())
      out.emplace_back(id, undo);
  }
  return out;
}

}  // namespace ringfence
