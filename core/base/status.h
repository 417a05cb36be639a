#pragma once

#include <optional>
#include <string>
#include <utility>

namespace ringfence {

// What went wrong, as a value. Expected failures (bad input, a target that is gone, EPERM,
// a timeout) travel as Status; exceptions from libraries are caught where they arise.
enum class StatusCode {
  kOk = 0,
  kInvalidInput,  // the user's input is wrong; nothing was touched
  kNotFound,      // a target, file or process does not exist (or no longer exists)
  kPermission,    // EPERM / EACCES
  kUnavailable,   // a kernel feature, tool or server is missing or unreachable
  kTimeout,
  kRuntime,  // anything else that failed at run time
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(StatusCode code, std::string message) {
    return Status(code, std::move(message));
  }
  static Status InvalidInput(std::string m) {
    return Error(StatusCode::kInvalidInput, std::move(m));
  }
  static Status NotFound(std::string m) { return Error(StatusCode::kNotFound, std::move(m)); }
  static Status Runtime(std::string m) { return Error(StatusCode::kRuntime, std::move(m)); }
  static Status Unavailable(std::string m) { return Error(StatusCode::kUnavailable, std::move(m)); }
  static Status Timeout(std::string m) { return Error(StatusCode::kTimeout, std::move(m)); }
  // From an errno value: EPERM/EACCES → kPermission, ESRCH/ENOENT → kNotFound, else kRuntime.
  static Status FromErrno(int err, const std::string& what);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status::Runtime("Result built from an ok Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  // Not a std::variant: g++ 12 warns falsely (-Wmaybe-uninitialized) on variants of strings.
  std::optional<T> value_;
  Status status_;
};

}  // namespace ringfence
