#pragma once

#include <cstdint>
#include <string>

#include "core/base/duration.h"
#include "core/base/status.h"
#include "core/fault/fault.h"

namespace ringfence {

// Whether the kernel has the netem qdisc. Tried, not guessed: `tc qdisc add dev lo root netem
// delay 1ms` runs in a fresh network namespace of its own (`unshare --net`, see RunInNetns),
// which disappears with the command, so the probe changes nothing anywhere. /proc/config.gz
// and /sys/module are not reliable (often absent; built-in qdiscs without parameters do not
// show in /sys/module). Errors (not "false"): tc missing, no privilege for a namespace.
Result<bool> KernelHasNetem(Env& system);

// The handle the fault's root qdisc gets, so that revert deletes only its own qdisc.
inline constexpr char kNetemHandle[] = "5246:";

// kNotFound "interface '<name>' not found" when `interface` does not exist in `netns`.
Status CheckNetemInterface(Env& system, const std::string& netns, const std::string& interface);
// `tc qdisc add dev <interface> root handle 5246: netem delay <d> [<jitter>] [rate <r>kbit]`:
// fails (touching nothing) when the interface already has a root qdisc of someone else's.
Status ApplyNetem(Env& system, const std::string& netns, const std::string& interface,
                  Duration delay, Duration jitter, uint64_t rate_kbit);
// Deletes the root qdisc if it is still ours (handle 5246:). Ok when it, the interface or the
// namespace is gone.
Status RemoveNetem(Env& system, const std::string& netns, const std::string& interface);
// From outside (`tc qdisc show dev <interface> root`): ringfence's netem qdisc is gone (or the
// interface is); Unknown when tc cannot tell.
Verification VerifyNetemGone(Env& system, const std::string& netns, const std::string& interface);
std::string NetemManualUndo(const std::string& netns, const std::string& interface);

}  // namespace ringfence
