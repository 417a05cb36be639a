// Durations (core/base/duration.cc): every text the experiment, inventory or CLI gives as a
// duration. Property: whatever parses formats back to a text that parses to the same value.

#include "core/base/duration.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  const auto parsed = ParseDuration(fuzz::AsText(data, size));
  if (!parsed.ok()) return 0;
  if (parsed->count() < 0) fuzz::Violated("ParseDuration returned a negative duration");
  const auto again = ParseDuration(FormatDuration(*parsed));
  if (!again.ok() || *again != *parsed) fuzz::Violated("FormatDuration does not round-trip");
  return 0;
}
