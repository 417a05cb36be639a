#pragma once

#include "core/base/file_system.h"

namespace ringfence {

// The real file system: each FileSystem call is the system call it names. Stateless and
// thread-safe; one for the process.
FileSystem& SystemFileSystem();

}  // namespace ringfence
