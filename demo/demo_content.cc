#include "demo/demo_content.h"

namespace ringfence {
namespace {

std::vector<std::string> SplitFields(std::string_view line) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (;;) {
    size_t comma = line.find(',', begin);
    if (comma == std::string_view::npos) {
      out.emplace_back(line.substr(begin));
      return out;
    }
    out.emplace_back(line.substr(begin, comma - begin));
    begin = comma + 1;
  }
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

}  // namespace

DemoContentParse ParseContent(std::string_view text, int fields) {
  DemoContentParse parse;
  int record = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsBlank(line) || line.front() == '#') continue;

    ++record;
    std::vector<std::string> values = SplitFields(line);
    const int found = static_cast<int>(values.size());
    if (found == fields) {
      parse.content.records.push_back(std::move(values));
      continue;
    }
    parse.record = record;
    parse.fields_found = found;
    const std::string head = "content interpreter: record " + std::to_string(record) + " has " +
                             std::to_string(found) + " fields, ";
    if (found > fields) {
      parse.problem = DemoContentParse::Problem::kTooManyFields;
      parse.message =
          head + "the reader supplies " + std::to_string(fields) + ": out-of-bounds read";
    } else {
      parse.problem = DemoContentParse::Problem::kTooFewFields;
      parse.message =
          head + "expected " + std::to_string(fields) + ": rejected, keeping the previous content";
    }
    parse.content.records.clear();
    return parse;
  }
  return parse;
}

}  // namespace ringfence
