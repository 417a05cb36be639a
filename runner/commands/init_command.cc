#include "runner/commands/init_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/base/placeholders.h"
#include "core/base/validation.h"

namespace ringfence {

// Filled in by the build from templates/*.json (packaging/embed_templates.cmake).
std::vector<InitTemplate> EmbeddedInitTemplates();

const std::vector<InitTemplate>& InitTemplates() {
  static const std::vector<InitTemplate> all = [] {
    auto t = EmbeddedInitTemplates();
    std::sort(t.begin(), t.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return t;
  }();
  return all;
}

const InitTemplate* FindInitTemplate(const std::string& name) {
  for (const auto& t : InitTemplates()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> InitTemplateNames() {
  std::vector<std::string> names;
  for (const auto& t : InitTemplates()) names.push_back(t.name);
  return names;
}

std::string InitTemplateList() {
  std::string list;
  for (const auto& t : InitTemplates()) list += (list.empty() ? "" : ", ") + t.name;
  return list;
}

std::vector<std::string> TemplatePlaceholders(const InitTemplate& t) {
  std::vector<std::string> names;
  auto doc = nlohmann::ordered_json::parse(t.text, nullptr, false);
  if (doc.is_discarded()) return names;  // the tests keep every template valid JSON
  ValidationErrors ignored;
  FillPlaceholders(
      doc,
      [&names](const std::string& name) -> std::optional<std::string> {
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        return "x";
      },
      "", ignored);
  return names;
}

namespace {

// Writes all of `text` to `fd`; false with errno set on failure.
bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void PrintGuidance(const InitTemplate& t, const std::string& output) {
  const std::vector<std::string> placeholders = TemplatePlaceholders(t);
  const std::string file = output == "-" ? "FILE" : output;
  std::string vars;
  for (const auto& p : placeholders) vars += " --var " + p + "=...";
  std::fprintf(stderr, "ringfence init: %s: template %s\n",
               output == "-" ? "stdout" : output.c_str(), t.name.c_str());
  if (!placeholders.empty()) {
    std::string list;
    for (const auto& p : placeholders) list += (list.empty() ? "" : " ") + ("${" + p + "}");
    std::fprintf(stderr,
                 "  placeholders to fill (its description says what each one is): %s\n"
                 "  fill them with --var (or environment variables), or edit the file\n",
                 list.c_str());
  }
  std::fprintf(stderr,
               "  check it:        ringfence validate %s%s\n"
               "  see the plan:    ringfence run %s --dry-run%s\n"
               "  run it (root):   ringfence run %s%s\n",
               file.c_str(), vars.c_str(), file.c_str(), vars.c_str(), file.c_str(), vars.c_str());
}

}  // namespace

int RunInit(const InitRequest& request) {
  const InitTemplate* t = FindInitTemplate(request.template_name);
  if (t == nullptr) {  // the command line checks the name; this is a programming error
    std::fprintf(stderr, "ringfence init: no template %s\n", request.template_name.c_str());
    return 2;
  }
  if (request.output == "-") {
    if (!WriteAll(STDOUT_FILENO, t->text)) {
      std::fprintf(stderr, "ringfence init: cannot write to standard output: %s\n",
                   std::strerror(errno));
      return 3;
    }
    PrintGuidance(*t, request.output);
    return 0;
  }
  // O_EXCL: a file (or a link, or a FIFO) already there is never opened, so never overwritten.
  const int fd = ::open(request.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      std::fprintf(stderr, "ringfence init: %s exists; not overwritten (choose another -o FILE)\n",
                   request.output.c_str());
      return 2;
    }
    std::fprintf(stderr, "ringfence init: cannot create %s: %s\n", request.output.c_str(),
                 std::strerror(errno));
    return 3;
  }
  const bool written = WriteAll(fd, t->text);
  const int saved = errno;
  if (::close(fd) != 0 || !written) {
    std::fprintf(stderr, "ringfence init: cannot write %s: %s\n", request.output.c_str(),
                 std::strerror(written ? errno : saved));
    ::unlink(request.output.c_str());
    return 3;
  }
  PrintGuidance(*t, request.output);
  return 0;
}

}  // namespace ringfence
