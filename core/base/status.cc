#include "core/base/status.h"

#include <cerrno>
#include <cstring>

namespace ringfence {

Status Status::FromErrno(int err, const std::string& what) {
  StatusCode code = StatusCode::kRuntime;
  if (err == EPERM || err == EACCES) code = StatusCode::kPermission;
  if (err == ESRCH || err == ENOENT) code = StatusCode::kNotFound;
  return Status(code, what + ": " + std::strerror(err));
}

}  // namespace ringfence
