#pragma once

#include <string>

namespace ringfence {

// Who and where this process runs, for the journal (journal v3) and its reports. Never fails:
// what cannot be read is "" (host, platform) or "uid N" (a user without a name).
std::string LocalHostName();
std::string LocalPlatform();  // "Linux 6.1.0-18-amd64 x86_64" (uname: system, release, machine)
std::string EffectiveUserName();

}  // namespace ringfence
