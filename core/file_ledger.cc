#include "core/file_ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/crc.hpp>

#include "core/clock.h"

namespace ringfence {

namespace {

std::string Crc32Hex(const std::string& text) {
  boost::crc_32_type crc;
  crc.process_bytes(text.data(), text.size());
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(crc.checksum()));
  return buf;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::FromErrno(err, dir);
}

}  // namespace

std::string LedgerLine(const nlohmann::json& record) {
  std::string json = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Crc32Hex(json) + " " + json + "\n";
}

std::vector<const LedgerContents::Entry*> LedgerContents::Outstanding() const {
  std::vector<const Entry*> out;
  for (const auto& e : entries) {
    if (!e.reverted) out.push_back(&e);
  }
  return out;
}

Result<LedgerContents> ReadLedger(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return errno == ENOENT ? Status::NotFound("ledger " + path + ": no such file")
                           : Status::FromErrno(errno, "ledger " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
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
    auto problem = [&](const std::string& what) {
      if (last) {
        out.torn_tail = true;  // a crash mid-write: the record was never acknowledged
      } else {
        out.problems.push_back("line " + std::to_string(line_no) + ": " + what);
      }
    };
    if (line.size() < 10 || line[8] != ' ') {
      problem("not a ledger record");
      continue;
    }
    std::string json = line.substr(9);
    if (Crc32Hex(json) != line.substr(0, 8)) {
      problem("checksum mismatch");
      continue;
    }
    // A last line with an intact checksum but no newline lost only its newline: it is whole.
    nlohmann::json rec = nlohmann::json::parse(json, nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) {
      problem("not JSON");
      continue;
    }
    int v = rec.value("v", 0);
    if (v > kLedgerVersion) {
      out.problems.push_back("line " + std::to_string(line_no) + ": written by a newer ringfence (ledger version " +
                             std::to_string(v) + "); this one reads version " +
                             std::to_string(kLedgerVersion));
      continue;
    }
    const std::string type = rec.value("type", "");
    if (type == "run") {
      out.run = rec;
    } else if (type == "watchdog") {
      out.watchdog = rec;
    } else if (type == "end") {
      out.end = rec;
    } else if (type == "intent") {
      LedgerContents::Entry e;
      e.id = rec.value("id", uint64_t{0});
      e.undo = UndoRecord::FromJson(rec.value("undo", nlohmann::json::object()));
      out.entries.push_back(std::move(e));
    } else if (type == "reverted") {
      uint64_t id = rec.value("id", uint64_t{0});
      bool found = false;
      for (auto& e : out.entries) {
        if (e.id == id) {
          e.reverted = true;
          e.reverted_by = rec.value("by", "runner");
          found = true;
        }
      }
      if (!found) out.problems.push_back("line " + std::to_string(line_no) + ": reverts unknown entry " + std::to_string(id));
    } else {
      out.problems.push_back("line " + std::to_string(line_no) + ": unknown record type \"" + type + "\"");
    }
  }
  return out;
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
                                                      const nlohmann::json& run_record) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir + "/runs", ec);
  if (ec) return Status::Error(StatusCode::kPermission, "state dir " + state_dir + ": " + ec.message());
  const std::string path = LedgerPath(state_dir, run_id);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "ledger " + path);
  std::unique_ptr<FileLedger> ledger(new FileLedger(path, fd, 1));
  nlohmann::json rec = run_record;
  rec["type"] = "run";
  rec["run_id"] = run_id;
  Status st = ledger->Append(rec);
  if (st.ok()) st = FsyncDir(state_dir + "/runs");
  if (!st.ok()) return st;
  return ledger;
}

Result<std::unique_ptr<FileLedger>> FileLedger::OpenForAppend(const std::string& path) {
  auto contents = ReadLedger(path);
  if (!contents.ok()) return contents.status();
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "ledger " + path);
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = 0;
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      Status w = WriteAll(fd, "\n", "ledger " + path);
      if (!w.ok()) {
        ::close(fd);
        return w;
      }
    }
  }
  uint64_t next = 1;
  std::unique_ptr<FileLedger> ledger;
  for (const auto& e : contents->entries) next = std::max(next, e.id + 1);
  ledger.reset(new FileLedger(path, fd, next));
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
  if (!record.contains("at")) record["at"] = NowMs();
  Status st = WriteAll(fd_, LedgerLine(record), "ledger " + path_);
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
    if (std::find(reverted_.begin(), reverted_.end(), id) == reverted_.end()) out.emplace_back(id, undo);
  }
  return out;
}

}  // namespace ringfence
