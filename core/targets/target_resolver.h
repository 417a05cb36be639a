#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/fault/fault.h"
#include "core/model/experiment.h"

namespace ringfence {

// The processes a selector matches now, in pid order, before the selection mode is applied.
// Never includes PID 1, the calling process, or `excluded` pids (e.g. the runner's watchdog).
// Errors: an unreadable pidfile (kNotFound / kPermission), an unknown user (kInvalidInput).
Result<std::vector<ProcessInfo>> MatchProcesses(ProcessTable& table,
                                                const ProcessSelector& selector,
                                                const std::vector<pid_t>& excluded = {});

// Applies the selection mode to `matches` with `rng` (a seeded generator, so that a run can be
// replayed): all, count N (N > matches is kInvalidInput naming spec.pointer), or percent P
// (ceil, at least one when anything matched). An empty result is kNotFound unless
// spec.allow_empty. The result keeps pid order.
Result<std::vector<Target>> SelectTargets(const TargetSpec& spec,
                                          const std::vector<ProcessInfo>& matches,
                                          std::mt19937_64& rng);

// MatchProcesses then SelectTargets. Errors of MatchProcesses are prefixed with
// "<spec.pointer>: ".
Result<std::vector<Target>> ResolveTargets(ProcessTable& table, const TargetSpec& spec,
                                           std::mt19937_64& rng,
                                           const std::vector<pid_t>& excluded = {});

// The selector in words, as error messages use it: `pid 42`, `pidfile /run/x.pid`,
// `name "nginx"`, `cmdline "^sleep 3600"`, each followed by ` and user "www"` when filtered.
std::string DescribeSelector(const ProcessSelector& selector);

// A uniformly chosen index below `n` (n > 0) from the raw output of `rng`. The standard library's
// distributions are implementation-defined; this one gives the same answer everywhere.
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n);
// k of the indices 0..m-1 (k ≤ m), chosen by a partial Fisher-Yates shuffle driven by `rng`, in
// the order drawn; all of them in order when k == m.
std::vector<size_t> SampleIndices(std::mt19937_64& rng, size_t m, size_t k);

}  // namespace ringfence
