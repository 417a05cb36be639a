#include "faults/bad_update/mutations.h"

#include <random>

#include <fmt/format.h>

namespace ringfence {
namespace {

// Line spans [begin, end) of the records: lines neither blank nor starting with '#'.
std::vector<std::pair<size_t, size_t>> RecordLines(const std::string& text) {
  std::vector<std::pair<size_t, size_t>> records;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t content_end = end;
    if (content_end > start && text[content_end - 1] == '\r') --content_end;
    if (content_end > start && text[start] != '#') records.push_back({start, content_end});
    start = end + 1;
  }
  return records;
}

}  // namespace

const std::vector<std::string>& MutationNames() {
  static const std::vector<std::string> kNames = {"extra_field", "truncate", "corrupt_bytes",
                                                  "empty", "oversize"};
  return kNames;
}

Result<std::string> Mutate(const std::string& good, const MutationSpec& spec) {
  if (spec.name == "extra_field") {
    const auto records = RecordLines(good);
    if (records.empty()) return Status::InvalidInput("it has no records to add a field to");
    if (spec.record < 1 || spec.record > static_cast<int>(records.size())) {
      return Status::InvalidInput(fmt::format("it has {} record{}; record {} was asked for",
                                              records.size(), records.size() == 1 ? "" : "s",
                                              spec.record));
    }
    // The record's last field repeated once more: same shape of data, one field too many.
    const auto [begin, end] = records[spec.record - 1];
    const size_t comma = good.rfind(',', end - 1);
    const std::string last = comma == std::string::npos || comma < begin
                                 ? good.substr(begin, end - begin)
                                 : good.substr(comma + 1, end - comma - 1);
    std::string bad = good;
    bad.insert(end, "," + (last.empty() ? std::string("x") : last));
    return bad;
  }
  if (spec.name != "truncate" && spec.name != "corrupt_bytes" && spec.name != "empty" &&
      spec.name != "oversize") {
    return Status::InvalidInput("unknown mutation " + spec.name);
  }
  if (good.empty()) return Status::InvalidInput("it is empty");
  if (spec.name == "truncate") return good.substr(0, good.size() / 2);
  if (spec.name == "empty") return std::string();
  if (spec.name == "corrupt_bytes") {
    // One byte in a hundred, at least one, each replaced by a different byte.
    std::mt19937_64 rng(spec.seed);
    std::string bad = good;
    const size_t count = std::max<size_t>(1, good.size() / 100);
    std::uniform_int_distribution<size_t> where(0, good.size() - 1);
    std::uniform_int_distribution<int> delta(1, 255);
    for (size_t i = 0; i < count; ++i) {
      const size_t at = where(rng);
      bad[at] = static_cast<char>(static_cast<unsigned char>(bad[at]) + delta(rng));
    }
    return bad;
  }
  // oversize: the good content repeated until it reaches oversize_bytes.
  if (good.size() >= spec.oversize_bytes) {
    return Status::InvalidInput(
        fmt::format("it is already {} bytes, not below oversize_bytes", good.size()));
  }
  std::string bad;
  bad.reserve(spec.oversize_bytes + good.size());
  while (bad.size() < spec.oversize_bytes) bad += good;
  return bad;
}

}  // namespace ringfence
