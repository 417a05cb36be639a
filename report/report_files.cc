#include "report/report_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"

namespace ringfence {

namespace {

std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status CheckReportPath(const std::string& option, const std::string& path) {
  const std::string where = option + " \"" + path + "\": ";
  if (path.empty() || path.back() == '/') {
    return Status::InvalidInput(where + "a file name is needed");
  }
  const std::string folder = FolderOf(path);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    return Status::InvalidInput(where + "the folder " + folder + " does not exist");
  }
  if (!S_ISDIR(st.st_mode)) return Status::InvalidInput(where + folder + " is not a folder");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::InvalidInput(where + "is a folder");
  }
  return Status::Ok();
}

Status CheckReportPaths(const ReportPaths& paths, const std::string& html_option,
                        const std::string& junit_option, const std::string& markdown_option) {
  const std::pair<const std::string*, const std::string*> checks[] = {
      {&paths.html, &html_option},
      {&paths.junit, &junit_option},
      {&paths.markdown, &markdown_option}};
  for (const auto& [path, option] : checks) {
    if (path->empty()) continue;
    if (Status st = CheckReportPath(*option, *path); !st.ok()) return st;
  }
  return Status::Ok();
}

Status WriteTextFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::FromErrno(errno, "report " + path);
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::FromErrno(err, "report " + path);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno(err, "report " + path);
  }
  return Status::Ok();
}

Status WriteReports(const JournalModel& run, const std::string& journal_path,
                    const ReportPaths& paths) {
  Status first;
  auto write = [&first](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    Status st = WriteTextFileAtomically(path, text);
    if (first.ok() && !st.ok()) first = st;
  };
  if (!paths.html.empty()) write(paths.html, RenderHtmlReport(run, journal_path));
  if (!paths.junit.empty()) write(paths.junit, RenderJUnit(run, journal_path));
  if (!paths.markdown.empty()) write(paths.markdown, RenderMarkdown(run, journal_path));
  return first;
}

}  // namespace ringfence
