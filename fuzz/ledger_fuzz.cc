// The ledger reader (core/ledger/file_ledger.cc): what `recover`, `status` and the watchdog read
// from
// `<state>/runs/*.ledger`, a file an attacker may have planted. Each input line is one record's
// JSON text; the harness seals it with a valid checksum (SealLedgerLine), so that the records
// get past the integrity check and reach the record parsing, which is what this fuzzes. A line
// starting with '!' is written as it is (the rest of it), so checksum mismatches and garbage
// lines are reached too; an input without a final newline leaves a torn last line.
//
// Lines are authenticated with an HMAC under the state dir's key: the harness parses with
// ParseLedgerText (ReadLedger after its file and key checks) under a fixed key and run id, and
// SealLedgerLine computes the MAC the reader expects.

#include <cstdio>
#include <string>

#include "core/ledger/file_ledger.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr char kKey[] = "fuzz-ledger-key-0123456789abcdef";
constexpr char kRunId[] = "20261201-210000-fuzz";

// `<HMAC-SHA256 of "<run id>\n<json>" as 64 hex digits> <json>`, as FileLedger writes a record
// (without newline).
std::string SealLedgerLine(std::string_view json) {
  return ringfence::SealedLedgerText(std::string(json), kKey, kRunId);
}

}  // namespace

// The harness is useless once its lines no longer pass the reader's check (the fuzzing would go
// on, green, without reaching a single record): a sealed record must be read back.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace ringfence;
  const auto contents = ParseLedgerText(
      SealLedgerLine(R"({"v":1,"type":"run","run_id":"check"})") + "\n" +
          SealLedgerLine(R"({"v":1,"type":"intent","id":1,"undo":{"fault_type":"x"}})") + "\n",
      "check.ledger", kKey, kRunId);
  if (!contents.ok() || contents->entries.size() != 1 || !contents->problems.empty()) {
    std::fprintf(stderr,
                 "ledger harness: a record sealed by SealLedgerLine is not read back (%s); "
                 "SealLedgerLine must produce lines the reader trusts\n",
                 contents.ok()
                     ? (contents->problems.empty() ? "no entry" : contents->problems[0].c_str())
                     : contents.status().message().c_str());
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  std::string_view input = fuzz::AsText(data, size);
  std::string ledger;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (!line.empty() && line[0] == '!') {
      ledger += line.substr(1);
    } else if (!line.empty()) {
      ledger += SealLedgerLine(line);
    }
    if (nl != std::string_view::npos) ledger += '\n';
  }
  const auto contents = ParseLedgerText(ledger, "fuzz.ledger", kKey, kRunId);
  if (!contents.ok()) return 0;
  for (const auto* entry : contents->Outstanding()) {
    if (entry->reverted) fuzz::Violated("an outstanding entry is marked reverted");
    (void)entry->undo.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  (void)contents->run.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  return 0;
}
