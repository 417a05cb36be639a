#pragma once

#include <string>

namespace ringfence {

// How this binary was built, fixed when the build was configured (packaging/build_info.cc.in):
// "commit 9b3046d1a2b3, RelWithDebInfo, GNU 12.2.0". The commit is "unknown" in a tree without
// git metadata (a release tarball); the build still works.
std::string BuildDescription();

}  // namespace ringfence
