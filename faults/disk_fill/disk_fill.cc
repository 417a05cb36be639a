#include "faults/disk_fill/disk_fill.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/base/shell_quote.h"
#include "faults/common/worker_group.h"
#include "faults/disk_fill/fill_plan.h"

namespace ringfence {
namespace {

constexpr char kType[] = "disk_fill";
// Allocation step: the filesystem is measured again before each one.
constexpr uint64_t kChunkBytes = 64ull << 20;
constexpr size_t kWriteBufferBytes = 1 << 20;
// How often the margin watcher measures the filesystem while the fault is active.
constexpr std::chrono::milliseconds kMarginCheckInterval{20};
// Shrink events kept for the journal (the totals count all of them).
constexpr size_t kMaxShrinkEvents = 100;

std::atomic<int> next_fill_index{0};

// The checks that need nothing but the path: it exists, is a writable directory, and is not on
// the root filesystem unless that is allowed.
Status CheckPath(FileSystem& files, const std::string& path, bool allow_root_fs) {
  FsEntry st;
  if (int err = files.Stat(path, st)) {
    if (err == ENOENT || err == ENOTDIR) {
      return Status::NotFound("disk_fill: path " + path + " does not exist");
    }
    return Status::FromErrno(err, "disk_fill: path " + path);
  }
  if (!st.directory) {
    return Status::InvalidInput("disk_fill: path " + path + " is not a directory");
  }
  FsSpace space;
  if (int err = files.Space(path, space)) return Status::FromErrno(err, "statvfs " + path);
  if (space.read_only) {
    return Status::InvalidInput("disk_fill: the filesystem of " + path + " is mounted read-only");
  }
  if (int err = files.CheckWritable(path)) {
    return Status::FromErrno(err, "disk_fill: path " + path + " is not writable");
  }
  FsEntry root;
  if (files.Stat("/", root) == 0 && root.device == st.device && !allow_root_fs) {
    return Status::InvalidInput("disk_fill: " + path +
                                " is on the root filesystem; set allow_root_fs: true to fill it");
  }
  return Status::Ok();
}

Result<FsUsage> CheckedUsage(FileSystem& files, const std::string& path,
                             const FillRequest& request) {
  auto usage = ReadFsUsage(files, path);
  if (!usage.ok()) return usage.status();
  Status possible = CheckFillPossible(request, *usage, path);
  if (!possible.ok()) return possible;
  return usage;
}

// Writes `n` zero bytes at the end of the fill, for filesystems without fallocate; `written`
// counts what was written even when it fails part-way. Returns 0 or an errno value.
int WriteZeros(FsFile& file, uint64_t& written, uint64_t n) {
  static const std::vector<char> zeros(kWriteBufferBytes, 0);
  while (n > 0) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(n, zeros.size()));
    const uint64_t before = written;
    const int err = file.WriteAt(written, std::string_view(zeros.data(), len), written);
    n -= written - before;
    if (err != 0) return err;
  }
  // Space is accounted for on some filesystems only once the data is flushed.
  return file.SyncData();
}

const FaultDecl& DiskFillDecl() {
  static const FaultDecl decl{
      kType,
      "Fill the filesystem of a path to a level, by a size, or up to a reserve; revert deletes "
      "the fill file",
      TargetKind::kHost,
      {
          {"path",
           ParamType::kString,
           true,
           nullptr,
           std::nullopt,
           std::nullopt,
           {},
           "an existing directory (absolute path); the fill file is created in it"},
          {"percent",
           ParamType::kNumber,
           false,
           nullptr,
           1,
           100,
           {},
           "fill until the filesystem is this percent used, as df shows it"},
          {"size",
           ParamType::kInteger,
           false,
           nullptr,
           1,
           9007199254740992.0,
           {},
           "add this many bytes"},
          {"reserve",
           ParamType::kInteger,
           false,
           nullptr,
           static_cast<double>(kDiskFillSafetyMarginBytes),
           9007199254740992.0,
           {},
           "fill until only this many bytes are available"},
          {"allow_root_fs",
           ParamType::kBoolean,
           false,
           false,
           std::nullopt,
           std::nullopt,
           {},
           "allow filling the filesystem that / is on"},
      }};
  return decl;
}

class DiskFill : public Fault {
 public:
  DiskFill(std::string step_name, DiskFillConfig config)
      : step_name_(std::move(step_name)),
        path_(std::move(config.path)),
        allow_root_fs_(config.allow_root_fs),
        request_(config.request) {}

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    (void)targets;
    FileSystem& files = env.system.files();
    Status path_ok = CheckPath(files, path_, allow_root_fs_);
    if (!path_ok.ok()) return path_ok;
    auto usage = CheckedUsage(files, path_, request_);
    return usage.ok() ? Status::Ok() : usage.status();
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    const std::string dir = path_ == "/" ? "" : path_;
    const std::string base = dir + "/.ringfence-fill-" + SanitizeRunId(env.run_id) + "-";
    std::string file;
    for (int tries = 0; tries < 1000; ++tries) {
      file = base + std::to_string(next_fill_index.fetch_add(1));
      FsEntry st;
      if (env.system.files().Lstat(file, st) != 0) break;
    }
    UndoRecord undo;
    undo.fault_type = kType;
    undo.fault_name = step_name_;
    undo.host = target.host;
    undo.target = target.label;
    undo.manual_undo = "rm -f " + ShellQuote(file);
    undo.data = {{"file", file}, {"path", path_}};
    return undo;
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)target;
    file_ = undo.data.value("file", "");
    if (file_.empty()) return Status::InvalidInput("disk_fill: undo record has no file");
    files_ = &env.system.files();
    // Measured again just before allocating: the filesystem may have changed since Prepare.
    auto usage = CheckedUsage(*files_, path_, request_);
    if (!usage.ok()) return usage.status();
    before_ = *usage;
    peak_ = *usage;

    std::unique_ptr<FsFile> file;
    if (int err = files_->CreateExclusive(file_, 0600, false, file)) {
      return Status::FromErrno(err, "disk_fill: create " + file_);
    }
    Status s = Fill(env, *file, *usage);
    file.reset();
    if (s.ok()) StartMarginWatch(env.clock);
    return s;
  }

  ~DiskFill() override { StopMarginWatch(); }

  // {"file", "bytes_written", "method", "request", "usage_before", "usage_peak", "usage_now",
  //  "stopped_early"?}: usages as {"used_bytes", "avail_bytes", "percent"}; usage_now is measured
  // at each call, so the last observation (after the revert) shows the space given back.
  nlohmann::json Observe(FaultEnv& env) override {
    // The first observation comes when the active window ends: one last check, then the revert
    // owns the file.
    if (watch_.joinable()) {
      StopMarginWatch();
      KeepMargin(env.clock);
    }
    nlohmann::json j = {{"file", file_},
                        {"bytes_written", written_},
                        {"method", use_write_ ? "write" : "fallocate"},
                        {"request", request_.ToJson()}};
    if (before_) j["usage_before"] = before_->ToJson();
    auto now = ReadFsUsage(env.system.files(), path_);
    if (now.ok()) {
      if (before_) Track(*now);
      j["usage_now"] = now->ToJson();
    }
    if (peak_) j["usage_peak"] = peak_->ToJson();
    if (!stopped_early_.empty()) j["stopped_early"] = stopped_early_;
    j["margin"] = MarginJson();
    return j;
  }

 private:
  // ---- The safety margin while the fault is active ---------------------------------------
  // A thread measures the filesystem every kMarginCheckInterval and, when less than the margin
  // is available (someone else wrote), shrinks the fill file by what is missing (whole blocks).
  // The file is opened by name for each shrink, so that nothing holds it open when the revert
  // unlinks it; a file already gone ends the watch.

  struct ShrinkEvent {
    WallTime at;
    uint64_t bytes = 0;         // by how much the fill file shrank
    uint64_t avail_before = 0;  // what was available just before
  };

  void StartMarginWatch(Clock& clock) {
    watch_ = std::thread([this, &clock] {
      while (clock.SleepUntil(clock.Monotonic() + kMarginCheckInterval, watch_stop_)) {
        if (!KeepMargin(clock)) return;
      }
    });
  }

  void StopMarginWatch() {
    watch_stop_.RequestStop("the fault's active window ended");
    if (watch_.joinable()) watch_.join();
  }

  // One check; false when the watch is over (the file is gone).
  bool KeepMargin(Clock& clock) {
    auto usage = ReadFsUsage(*files_, path_);
    if (!usage.ok() || usage->avail_bytes >= kDiskFillSafetyMarginBytes) return true;
    std::lock_guard<std::mutex> lock(mu_);
    if (written_ == 0) {
      if (!margin_lost_) {
        margin_lost_ = "at " + FormatRfc3339(clock.Now()) + " only " +
                       std::to_string(usage->avail_bytes) +
                       " bytes were available with the fill file empty: the filesystem was "
                       "filled from elsewhere, and the fault cannot give back more";
      }
      return true;
    }
    uint64_t give_back = kDiskFillSafetyMarginBytes - usage->avail_bytes;
    give_back += (usage->block_bytes - give_back % usage->block_bytes) % usage->block_bytes;
    const uint64_t new_size = written_ > give_back ? written_ - give_back : 0;
    std::unique_ptr<FsFile> file;
    if (int open_err = files_->OpenForWrite(file_, file)) {
      return open_err != ENOENT;  // reverted (or deleted by hand): nothing to shrink
    }
    const int err = file->Truncate(new_size);
    file.reset();
    if (err != 0) {
      shrink_error_ = Status::FromErrno(err, "disk_fill: truncate " + file_).message();
      return true;
    }
    const uint64_t shrunk = written_ - new_size;
    written_ = new_size;
    shrunk_bytes_ += shrunk;
    ++shrink_count_;
    if (shrink_events_.size() < kMaxShrinkEvents) {
      shrink_events_.push_back({clock.Now(), shrunk, usage->avail_bytes});
    }
    return true;
  }

  // {"bytes": the margin, "shrinks": N, "shrunk_bytes": total, "events": [{"at", "bytes",
  //  "avail_before"}] (the first 100), "lost"?: why it could not be kept, "error"?}.
  nlohmann::json MarginJson() {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : shrink_events_) {
      events.push_back(
          {{"at", FormatRfc3339(e.at)}, {"bytes", e.bytes}, {"avail_before", e.avail_before}});
    }
    nlohmann::json j = {{"bytes", kDiskFillSafetyMarginBytes},
                        {"shrinks", shrink_count_},
                        {"shrunk_bytes", shrunk_bytes_},
                        {"events", events}};
    if (margin_lost_) j["lost"] = *margin_lost_;
    if (!shrink_error_.empty()) j["error"] = shrink_error_;
    return j;
  }

  void Track(const FsUsage& usage) {
    if (!peak_ || usage.used_bytes > peak_->used_bytes) peak_ = usage;
  }

  Status Fill(FaultEnv& env, FsFile& file, const FsUsage& initial) {
    // Bounded even if the filesystem never reports the space as used (it should).
    const uint64_t first = NextFillBytes(request_, initial, 0);
    const uint64_t max_steps = first / kChunkBytes + 64;
    for (uint64_t step = 0; step < max_steps; ++step) {
      if (env.stop.stop_requested()) {
        stopped_early_ = "stop requested";
        break;
      }
      auto usage = ReadFsUsage(*files_, path_);
      if (!usage.ok()) return usage.status();
      Track(*usage);
      const uint64_t n = std::min(NextFillBytes(request_, *usage, written_), kChunkBytes);
      if (n == 0) break;
      if (!use_write_) {
        const int err = file.Allocate(written_, n);
        if (err == 0) {
          written_ += n;
          continue;
        }
        if (err == EOPNOTSUPP) {
          use_write_ = true;
        } else if (err == ENOSPC) {
          stopped_early_ = "the filesystem filled up meanwhile";
          break;
        } else {
          return Status::FromErrno(err, "disk_fill: fallocate " + file_);
        }
      }
      int err = WriteZeros(file, written_, n);
      if (err == ENOSPC) {
        stopped_early_ = "the filesystem filled up meanwhile";
        break;
      }
      if (err != 0) return Status::FromErrno(err, "disk_fill: write " + file_);
    }
    auto after = ReadFsUsage(*files_, path_);
    if (!after.ok()) return after.status();
    Track(*after);
    // Someone else may have written meanwhile: give back what the safety margin needs.
    if (after->avail_bytes < kDiskFillSafetyMarginBytes && written_ > 0) {
      uint64_t give_back = kDiskFillSafetyMarginBytes - after->avail_bytes;
      give_back += (after->block_bytes - give_back % after->block_bytes) % after->block_bytes;
      written_ = written_ > give_back ? written_ - give_back : 0;
      if (int err = file.Truncate(written_)) {
        return Status::FromErrno(err, "disk_fill: truncate " + file_);
      }
      if (stopped_early_.empty()) stopped_early_ = "gave space back to keep the safety margin";
    }
    if (request_.mode == FillRequest::Mode::kSize && written_ < request_.size &&
        stopped_early_.empty()) {
      stopped_early_ = "kept the safety margin free";
    }
    return Status::Ok();
  }

  std::string step_name_;
  std::string path_;
  bool allow_root_fs_ = false;
  FillRequest request_;
  std::string file_;
  FileSystem* files_ = nullptr;  // the Env's, from Inject on
  uint64_t written_ = 0;
  bool use_write_ = false;
  std::optional<FsUsage> before_;
  std::optional<FsUsage> peak_;
  std::string stopped_early_;
  // The margin watch; written_ is shared with it (under mu_) once it runs.
  std::mutex mu_;
  std::thread watch_;
  StopSource watch_stop_;
  uint64_t shrink_count_ = 0;
  uint64_t shrunk_bytes_ = 0;
  std::vector<ShrinkEvent> shrink_events_;
  std::optional<std::string> margin_lost_;
  std::string shrink_error_;
};

}  // namespace

const FaultDecl& DiskFillFactory::Declaration() const { return DiskFillDecl(); }

DiskFillConfig DiskFillConfig::FromParams(const nlohmann::json& params) {
  const ParamReader read(DiskFillDecl(), params);
  DiskFillConfig config;
  config.path = read.Get<std::string>("path");
  while (config.path.size() > 1 && config.path.back() == '/') config.path.pop_back();
  config.allow_root_fs = read.Get<bool>("allow_root_fs");
  FillRequest& r = config.request;  // exactly one of the three (ValidateConfig)
  if (auto percent = read.Optional<double>("percent")) {
    r.mode = FillRequest::Mode::kPercent;
    r.percent = *percent;
  } else if (auto reserve = read.Optional<uint64_t>("reserve")) {
    r.mode = FillRequest::Mode::kReserve;
    r.reserve = *reserve;
  } else {
    r.mode = FillRequest::Mode::kSize;
    r.size = read.Optional<uint64_t>("size").value_or(0);
  }
  return config;
}

void DiskFillFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                     ValidationErrors& errors) const {
  std::vector<std::string> given;
  for (const char* key : {"percent", "size", "reserve"}) {
    if (params.contains(key)) given.push_back(key);
  }
  const std::string allowed = "exactly one of percent, size, reserve";
  if (given.empty()) errors.Add(pointer, "missing percent, size and reserve", allowed);
  if (given.size() == 2) errors.Add(pointer, given[0] + " and " + given[1], allowed);
  if (given.size() == 3) errors.Add(pointer, "percent, size and reserve", allowed);
  if (params.contains("path") && params["path"].is_string()) {
    const std::string path = params["path"].get<std::string>();
    if (path.empty() || path[0] != '/') {
      errors.Add(pointer + "/path", nlohmann::json(path).dump(), "an absolute path");
    }
  }
}

std::unique_ptr<Fault> DiskFillFactory::Create(const FaultStep& step,
                                               const TargetSpec& target) const {
  (void)target;
  return std::make_unique<DiskFill>(step.name, DiskFillConfig::FromParams(step.params));
}

Status DiskFillFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  if (!undo.data.is_object() || !undo.data.contains("file") || !undo.data["file"].is_string()) {
    return Status::InvalidInput("disk_fill: undo record has no file: " + undo.data.dump());
  }
  const std::string file = undo.data["file"].get<std::string>();
  const int err = env.system.files().Remove(file);
  if (err != 0 && err != ENOENT) return Status::FromErrno(err, "disk_fill: rm " + file);
  return Status::Ok();
}

Verification DiskFillFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  FileSystem& files = env.system.files();
  if (!undo.data.is_object() || !undo.data.contains("file") || !undo.data["file"].is_string()) {
    return Verification::Unknown("undo record has no file");
  }
  const std::string file = undo.data["file"].get<std::string>();
  FsEntry st;
  const int err = files.Lstat(file, st);
  if (err == 0) {
    return Verification::NotReverted("fill file " + file + " still exists (" +
                                     std::to_string(st.allocated_bytes) + " bytes allocated)");
  }
  if (err != ENOENT) {
    return Verification::Unknown(Status::FromErrno(err, "lstat " + file).message());
  }
  std::string found = "fill file " + file + " is gone";
  const std::string path = undo.data.value("path", "");
  if (!path.empty()) {
    auto usage = ReadFsUsage(files, path);
    if (usage.ok()) {
      found += "; " + std::to_string(usage->avail_bytes) + " bytes available on " + path;
    }
  }
  return Verification::Reverted(found);
}

RINGFENCE_REGISTER_FAULT(DiskFillFactory);

}  // namespace ringfence
