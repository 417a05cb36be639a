#include "tests/support/fake_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringfence::testing {
namespace {

constexpr uint64_t kKeptBytes = 16ull << 20;

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

// `path` is `dir` or below it.
bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

uint64_t RoundUp(uint64_t n, uint64_t block) { return (n + block - 1) / block * block; }

// 0700 → "0700", as the log shows a mode.
std::string Octal(mode_t mode) {
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
  return octal;
}

}  // namespace

struct FakeFileSystem::Node {
  bool directory = false;
  mode_t mode = 0;
  std::string content;
  uint64_t size = 0;
  uint64_t allocated = 0;
  uint64_t links = 1;
};

struct FakeFileSystem::Mount {
  std::string path;
  uint64_t device = 0;
  uint64_t capacity = 0;
  uint64_t other_use = 0;
  uint64_t block_bytes = 4096;
  bool allocate = true;
  bool read_only = false;
};

class FakeFileSystem::File : public FsFile {
 public:
  File(FakeFileSystem& files, std::string path, std::shared_ptr<Node> node, bool append)
      : files_(files), path_(std::move(path)), node_(std::move(node)), append_(append) {}

  int WriteAt(uint64_t offset, std::string_view data, uint64_t& written) override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    return WriteLocked(offset, data, written);
  }

  int Write(std::string_view data) override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    uint64_t written = 0;
    const uint64_t at = append_ ? node_->size : position_;
    const int err = WriteLocked(at, data, written);
    position_ = at + written;
    return err;
  }

  int Allocate(uint64_t offset, uint64_t length) override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    const Mount* mount = files_.MountOf(path_);
    if (mount != nullptr && !mount->allocate) return EOPNOTSUPP;
    const int err = files_.Grow(*node_, path_, offset + length);
    if (err == 0) files_.log_.push_back("allocate " + path_ + " " + std::to_string(length));
    return err;
  }

  int Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    if (size > node_->size) {
      const int err = files_.Grow(*node_, path_, size);
      if (err != 0) return err;
    }
    node_->size = size;
    if (node_->content.size() > size) node_->content.resize(size);
    const Mount* mount = files_.MountOf(path_);
    node_->allocated = RoundUp(size, mount != nullptr ? mount->block_bytes : 4096);
    files_.log_.push_back("truncate " + path_ + " " + std::to_string(size));
    return 0;
  }

  int SyncData() override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    files_.log_.push_back("sync " + path_);
    return 0;
  }

  int Lock() override { return 0; }
  void Unlock() override {}

  int LinkCount(uint64_t& links) override {
    std::lock_guard<std::mutex> lock(files_.mu_);
    links = node_->links;
    return 0;
  }

 private:
  int WriteLocked(uint64_t offset, std::string_view data, uint64_t& written) {
    const int err = files_.Grow(*node_, path_, offset + data.size());
    if (err != 0) return err;
    if (offset + data.size() <= kKeptBytes) {
      if (node_->content.size() < offset + data.size()) node_->content.resize(offset + data.size());
      node_->content.replace(offset, data.size(), data);
    }
    written += data.size();
    files_.log_.push_back("write " + path_ + " " + std::to_string(data.size()));
    return 0;
  }

  FakeFileSystem& files_;
  std::string path_;
  std::shared_ptr<Node> node_;
  bool append_;
  uint64_t position_ = 0;
};

FakeFileSystem::FakeFileSystem() {
  auto root = std::make_shared<Node>();
  root->directory = true;
  root->mode = 0755;
  nodes_["/"] = root;
}

FakeFileSystem::~FakeFileSystem() = default;

void FakeFileSystem::MakeDirectoriesLocked(const std::string& path, mode_t mode) {
  if (path.empty() || nodes_.count(path)) return;
  MakeDirectoriesLocked(Parent(path), mode);
  auto dir = std::make_shared<Node>();
  dir->directory = true;
  dir->mode = mode;
  nodes_[path] = dir;
}

void FakeFileSystem::AddDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeDirectoriesLocked(path, 0755);
}

void FakeFileSystem::AddFile(const std::string& path, const std::string& content) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeDirectoriesLocked(Parent(path), 0755);
  auto file = std::make_shared<Node>();
  file->mode = 0644;
  file->content = content;
  file->size = content.size();
  nodes_[path] = file;
}

uint64_t FakeFileSystem::AddMount(const std::string& path, uint64_t capacity, uint64_t used,
                                  uint64_t block_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  MakeDirectoriesLocked(path, 0755);
  Mount mount;
  mount.path = path;
  mount.device = mounts_.size() + 1;
  mount.capacity = capacity;
  mount.other_use = used;
  mount.block_bytes = block_bytes;
  mounts_.push_back(mount);
  return mount.device;
}

void FakeFileSystem::DisableAllocate(const std::string& mount) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Mount& m : mounts_) {
    if (m.path == mount) m.allocate = false;
  }
}

void FakeFileSystem::SetReadOnly(const std::string& mount) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Mount& m : mounts_) {
    if (m.path == mount) m.read_only = true;
  }
}

void FakeFileSystem::SetOtherUse(const std::string& mount, uint64_t used) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Mount& m : mounts_) {
    if (m.path == mount) m.other_use = used;
  }
}

void FakeFileSystem::Fail(const std::string& path, int error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error == 0) {
    failures_.erase(path);
  } else {
    failures_[path] = error;
  }
}

bool FakeFileSystem::Exists(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.count(path) != 0;
}

bool FakeFileSystem::IsDirectory(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it != nodes_.end() && it->second->directory;
}

std::string FakeFileSystem::Content(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it == nodes_.end() ? "" : it->second->content;
}

uint64_t FakeFileSystem::Size(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second->size;
}

uint64_t FakeFileSystem::Allocated(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second->allocated;
}

mode_t FakeFileSystem::Mode(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second->mode;
}

std::vector<std::string> FakeFileSystem::Paths() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> paths;
  for (const auto& [path, node] : nodes_) paths.push_back(path);
  return paths;
}

std::vector<std::string> FakeFileSystem::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

const FakeFileSystem::Mount* FakeFileSystem::MountOf(const std::string& path) const {
  const Mount* best = nullptr;
  for (const Mount& m : mounts_) {
    if (Under(path, m.path) && (best == nullptr || m.path.size() > best->path.size())) best = &m;
  }
  return best;
}

uint64_t FakeFileSystem::UsedOn(const Mount& mount) const {
  uint64_t used = mount.other_use;
  for (const auto& [path, node] : nodes_) {
    if (MountOf(path) == &mount) used += node->allocated;
  }
  return used;
}

int FakeFileSystem::Grow(Node& node, const std::string& path, uint64_t end) {
  node.size = std::max(node.size, end);
  const Mount* mount = MountOf(path);
  const uint64_t block = mount != nullptr ? mount->block_bytes : 4096;
  const uint64_t allocated = RoundUp(end, block);
  if (allocated <= node.allocated) return 0;
  if (mount != nullptr) {
    const uint64_t used = UsedOn(*mount);
    const uint64_t avail = mount->capacity > used ? mount->capacity - used : 0;
    if (allocated - node.allocated > avail) return ENOSPC;
  }
  node.allocated = allocated;
  return 0;
}

int FakeFileSystem::FailureOf(const std::string& path) const {
  auto it = failures_.find(path);
  return it == failures_.end() ? 0 : it->second;
}

int FakeFileSystem::CheckParent(const std::string& path) const {
  auto parent = nodes_.find(Parent(path));
  if (parent == nodes_.end()) return ENOENT;
  return parent->second->directory ? 0 : ENOTDIR;
}

int FakeFileSystem::Space(const std::string& path, FsSpace& space) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  if (!nodes_.count(path)) return ENOENT;
  space = FsSpace{};
  const Mount* mount = MountOf(path);
  if (mount == nullptr) {
    space.block_bytes = 4096;
    return 0;
  }
  const uint64_t used = std::min(UsedOn(*mount), mount->capacity);
  space.block_bytes = mount->block_bytes;
  space.blocks = mount->capacity / mount->block_bytes;
  space.free_blocks = (mount->capacity - used) / mount->block_bytes;
  space.avail_blocks = space.free_blocks;
  space.read_only = mount->read_only;
  return 0;
}

int FakeFileSystem::Stat(const std::string& path, FsEntry& entry) { return Lstat(path, entry); }

int FakeFileSystem::Lstat(const std::string& path, FsEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return CheckParent(path) == ENOTDIR ? ENOTDIR : ENOENT;
  const Mount* mount = MountOf(path);
  entry.directory = it->second->directory;
  entry.device = mount != nullptr ? mount->device : 0;
  entry.allocated_bytes = it->second->allocated;
  return 0;
}

int FakeFileSystem::CheckWritable(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  return nodes_.count(path) ? 0 : ENOENT;
}

int FakeFileSystem::CreateExclusive(const std::string& path, mode_t mode, bool append,
                                    std::unique_ptr<FsFile>& file) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  if (nodes_.count(path)) return EEXIST;
  if (int err = CheckParent(path)) return err;
  auto node = std::make_shared<Node>();
  node->mode = mode;
  nodes_[path] = node;
  log_.push_back("create " + path + " " + Octal(mode));
  file = std::make_unique<File>(*this, path, node, append);
  return 0;
}

int FakeFileSystem::Open(const std::string& path, bool write, std::unique_ptr<FsFile>& file) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (write && it->second->directory) return EISDIR;
  file = std::make_unique<File>(*this, path, it->second, false);
  return 0;
}

int FakeFileSystem::OpenForWrite(const std::string& path, std::unique_ptr<FsFile>& file) {
  return Open(path, true, file);
}

int FakeFileSystem::OpenForRead(const std::string& path, std::unique_ptr<FsFile>& file) {
  return Open(path, false, file);
}

int FakeFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (it->second->directory) return EISDIR;
  it->second->links = 0;
  nodes_.erase(it);
  log_.push_back("remove " + path);
  return 0;
}

int FakeFileSystem::MakeDirectory(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  if (nodes_.count(path)) return EEXIST;
  if (int err = CheckParent(path)) return err;
  auto dir = std::make_shared<Node>();
  dir->directory = true;
  dir->mode = mode;
  nodes_[path] = dir;
  log_.push_back("mkdir " + path + " " + Octal(mode));
  return 0;
}

int FakeFileSystem::RemoveDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) return err;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ENOENT;
  if (!it->second->directory) return ENOTDIR;
  for (const auto& [other, node] : nodes_) {
    if (other != path && Under(other, path)) return ENOTEMPTY;
  }
  nodes_.erase(it);
  log_.push_back("rmdir " + path);
  return 0;
}

Result<std::string> FakeFileSystem::ReadFile(const std::string& path, size_t max_bytes,
                                             const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  int err = FailureOf(path);
  auto it = nodes_.find(path);
  if (err == 0 && it == nodes_.end()) err = ENOENT;
  if (err != 0) {
    // ReadInputFile's words (core/base/input_file.cc).
    const StatusCode code = err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound
                            : err == EACCES || err == EPERM ? StatusCode::kPermission
                                                            : StatusCode::kInvalidInput;
    return Status::Error(
        code, "cannot read the file (" + std::string(std::strerror(err)) + "): a readable " + kind);
  }
  if (it->second->directory) {
    return Status::InvalidInput("a directory: a regular " + kind);
  }
  if (it->second->size > max_bytes) {
    return Status::InvalidInput(std::to_string(it->second->size) + " bytes: a file of at most " +
                                std::to_string(max_bytes) + " bytes");
  }
  return it->second->content;
}

Status FakeFileSystem::WriteFile(const std::string& path, const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  int err = FailureOf(path);
  auto it = nodes_.find(path);
  if (err == 0 && it == nodes_.end()) err = CheckParent(path);
  if (err == 0 && it != nodes_.end() && it->second->directory) err = EISDIR;
  if (err != 0) return Status::FromErrno(err, "write " + path);
  if (it == nodes_.end()) {
    auto node = std::make_shared<Node>();
    node->mode = 0644;
    it = nodes_.emplace(path, node).first;
  }
  Node& node = *it->second;
  node.content.clear();
  node.size = 0;
  node.allocated = 0;
  if (Grow(node, path, bytes.size()) != 0) return Status::Runtime("write " + path + ": I/O error");
  node.content = bytes;
  log_.push_back("write-file " + path + " " + std::to_string(bytes.size()));
  return Status::Ok();
}

Status FakeFileSystem::MakeDirectories(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) {
    return Status::Runtime("create " + path + ": " + std::strerror(err));
  }
  auto it = nodes_.find(path);
  if (it != nodes_.end() && !it->second->directory) {
    return Status::Runtime("create " + path + ": " + std::strerror(EEXIST));
  }
  MakeDirectoriesLocked(path, mode);
  nodes_[path]->mode = mode;
  log_.push_back("mkdirs " + path + " " + Octal(mode));
  return Status::Ok();
}

Status FakeFileSystem::RemoveTree(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = FailureOf(path)) {
    return Status::Runtime("remove " + path + ": " + std::strerror(err));
  }
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first == "/" || !Under(it->first, path)) {
      ++it;
      continue;
    }
    it->second->links = 0;
    it = nodes_.erase(it);
  }
  log_.push_back("remove-tree " + path);
  return Status::Ok();
}

}  // namespace ringfence::testing
