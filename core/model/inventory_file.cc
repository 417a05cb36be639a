// LoadInventoryFile (core/model/inventory.h): the one reader of inventory files, native JSON or
// Ansible INI/YAML. A unit of its own so that the Ansible reader can use the inventory model.

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "core/base/input_file.h"
#include "core/model/ansible_inventory.h"
#include "core/model/inventory.h"

namespace ringfence {

std::optional<Inventory> LoadInventoryFile(const std::string& path, ValidationErrors& errors,
                                           bool* unreadable) {
  const std::optional<AnsibleFormat> ansible =
      path == kStandardInputName ? std::nullopt : AnsibleFormatOf(path);
  InputFileRefusal refusal;
  Result<std::string> text = ReadCommandLineInput(
      path, kMaxInventoryBytes, ansible ? "inventory file" : "JSON file", &refusal);
  if (unreadable != nullptr) *unreadable = !text.ok();
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  if (ansible) {
    // An executable file is what Ansible runs as a dynamic inventory script: never run here.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0) {
      errors.Add("", kExecutableInventoryFound, kExecutableInventoryAllowed);
      return std::nullopt;
    }
    std::error_code ec;
    const std::string dir = std::filesystem::absolute(path, ec).parent_path().string();
    auto inv = ParseAnsibleInventory(*text, *ansible, dir, errors);
    if (inv) inv->source = path;
    return inv;
  }
  // Nesting deeper than an inventory ever needs is refused as the parser meets it.
  constexpr int kMaxInventoryDepth = 64;
  bool too_deep = false;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(
        *text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
          const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                             event == nlohmann::json::parse_event_t::array_start;
          if (opens && depth >= kMaxInventoryDepth) too_deep = true;
          return !too_deep;
        });
  } catch (const nlohmann::json::out_of_range& e) {  // 406: "number overflow parsing '1e400'"
    std::string what = e.what();
    if (const size_t end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    errors.Add("", what, "numbers from -1.7976931348623157e308 to 1.7976931348623157e308");
    return std::nullopt;
  } catch (const nlohmann::json::parse_error& e) {
    // Line and column of the byte the parser stopped at.
    const std::string& t = *text;
    const size_t pos = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, t.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i) {
      if (t[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    errors.AddSyntax(line, static_cast<int>(pos - line_start + 1), "syntax error", "valid JSON");
    return std::nullopt;
  }
  if (too_deep) {
    errors.Add("", "nesting deeper than 64 levels", "at most 64 levels of arrays and objects");
    return std::nullopt;
  }
  const size_t before = errors.size();
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(path, ec).parent_path().string();
  Inventory inv = ParseInventory(doc, dir, "", errors);
  inv.source = path;
  if (errors.size() != before) return std::nullopt;
  return inv;
}

}  // namespace ringfence
