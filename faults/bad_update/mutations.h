#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// Ways to turn a good artifact into a bad one. The text-record mutations read the artifact as
// text records: one comma-separated record per line; blank lines and lines starting with '#'
// are not records.
// The initial values here are only zeros: the defaults are bad_update's declaration's
// (mutation_seed, mutation_record, oversize_bytes), read through its ParamReader.
struct MutationSpec {
  std::string name;           // one of MutationNames()
  uint64_t seed = 0;          // corrupt_bytes: which bytes, and what they become
  int record = 0;             // extra_field: the 1-based record that gets one more field
  size_t oversize_bytes = 0;  // oversize: at least this many bytes
};

// extra_field, truncate, corrupt_bytes, empty, oversize.
const std::vector<std::string>& MutationNames();

// The bad artifact made from `good`. The same spec and input always give the same bytes.
// kInvalidInput when the artifact cannot take the mutation (texts used as the validation error's
// `allowed`, after "a mutation the artifact can take: "):
//   "it has no records to add a field to"            (extra_field)
//   "it has <n> record[s]; record <k> was asked for" (extra_field)
//   "it is empty"                                     (truncate, corrupt_bytes, empty, oversize)
//   "it is already <n> bytes, not below oversize_bytes" (oversize)
//   "unknown mutation <name>"
Result<std::string> Mutate(const std::string& good, const MutationSpec& spec);

}  // namespace ringfence
