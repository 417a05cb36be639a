#pragma once

#include <cstddef>
#include <functional>

namespace ringfence {

// Runs fn(0) … fn(n - 1) on at most `max_concurrency` threads (the calling thread included when
// it is 1) and returns when every call has returned. `fn` must not throw.
void ParallelFor(size_t n, int max_concurrency, const std::function<void(size_t)>& fn);

}  // namespace ringfence
