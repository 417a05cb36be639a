#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringfence {

// The content file of ringfence-demo-service (docs/demo.md): text; blank lines and lines whose
// first character is '#' are ignored; every other line is one record of comma-separated fields.
// The service's "content interpreter" copies each record into a fixed array of `fields`
// entries. Here in core so that faults (a staged bad-update rollout) can check and write such
// files with the same rules.
struct DemoContent {
  std::vector<std::vector<std::string>> records;
};

struct DemoContentParse {
  enum class Problem {
    kNone,
    kTooFewFields,   // rejected: the service keeps its previous content and stays healthy
    kTooManyFields,  // the Channel-File-291 pattern: the interpreter would read out of bounds,
                     // the service aborts
  };
  Problem problem = Problem::kNone;
  DemoContent content;   // every record, when problem == kNone
  int record = 0;        // 1-based index (among records, not lines) of the first bad record
  int fields_found = 0;  // how many fields that record has
  // What the service logs, e.g. "content interpreter: record 3 has 21 fields, the reader
  // supplies 20: out-of-bounds read" or "content interpreter: record 2 has 19 fields, expected
  // 20: rejected, keeping the previous content"; "" when problem == kNone.
  std::string message;
};

// Records are checked in order and the first bad one decides. Windows line ends are accepted.
DemoContentParse ParseContent(std::string_view text, int fields);

}  // namespace ringfence
