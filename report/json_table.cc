#include "report/json_table.h"

#include <set>
#include <vector>

#include "report/markup.h"
#include "report/run_facts.h"

namespace ringfence {

namespace {

constexpr int kMaxDepth = 6;
constexpr size_t kMaxItems = 200;

std::string Render(const nlohmann::json& v, int depth);

std::string Plain(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string() && v.get<std::string>().empty()) return "<span class=\"none\">(empty)</span>";
  return EscapeText(ValueText(v));
}

std::string More(size_t shown, size_t total) {
  if (total <= shown) return "";
  return "<p class=\"none\">… and " + std::to_string(total - shown) + " more</p>";
}

std::string ObjectTable(const nlohmann::json& v, int depth) {
  if (v.empty()) return "<span class=\"none\">(none)</span>";
  std::string out = "<table class=\"kv\">";
  size_t shown = 0;
  for (auto it = v.begin(); it != v.end() && shown < kMaxItems; ++it, ++shown) {
    out += "<tr><th scope=\"row\">" + EscapeText(it.key()) + "</th><td>" +
           Render(it.value(), depth + 1) + "</td></tr>";
  }
  return out + "</table>" + More(shown, v.size());
}

bool AllObjects(const nlohmann::json& v) {
  for (const auto& e : v) {
    if (!e.is_object()) return false;
  }
  return true;
}

std::string ArrayTable(const nlohmann::json& v, int depth) {
  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto& e : v) {
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (seen.insert(it.key()).second) columns.push_back(it.key());
    }
  }
  std::string out = "<table class=\"rows\"><thead><tr>";
  for (const auto& c : columns) out += "<th scope=\"col\">" + EscapeText(c) + "</th>";
  out += "</tr></thead><tbody>";
  size_t shown = 0;
  for (; shown < v.size() && shown < kMaxItems; ++shown) {
    out += "<tr>";
    for (const auto& c : columns) {
      const auto& e = v[shown];
      out += "<td>" + (e.contains(c) ? Render(e[c], depth + 1) : std::string()) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table>" + More(shown, v.size());
}

std::string List(const nlohmann::json& v, int depth) {
  if (v.empty()) return "<span class=\"none\">(none)</span>";
  bool plain = true;
  for (const auto& e : v) plain = plain && !e.is_structured();
  if (plain) {
    std::string out;
    size_t shown = 0;
    for (; shown < v.size() && shown < kMaxItems; ++shown) {
      out += (shown ? ", " : "") + Plain(v[shown]);
    }
    return out + More(shown, v.size());
  }
  if (AllObjects(v)) return ArrayTable(v, depth);
  std::string out = "<ol>";
  size_t shown = 0;
  for (; shown < v.size() && shown < kMaxItems; ++shown) {
    out += "<li>" + Render(v[shown], depth + 1) + "</li>";
  }
  return out + "</ol>" + More(shown, v.size());
}

std::string Render(const nlohmann::json& v, int depth) {
  if (depth > kMaxDepth && v.is_structured()) {
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > 400) text = text.substr(0, 400) + "…";
    return "<code>" + EscapeText(text) + "</code>";
  }
  if (v.is_object()) return ObjectTable(v, depth);
  if (v.is_array()) return List(v, depth);
  return Plain(v);
}

}  // namespace

std::string JsonAsHtml(const nlohmann::json& value) { return Render(value, 0); }

}  // namespace ringfence
