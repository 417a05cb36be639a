// bench/history_query: `ringfence history` over a history of 100,000 runs.
//
// Fills <tmp>/state/history.db through the history's own schema (OpenSqliteHistory, then one
// transaction of plain INSERTs, since 100,000 fsynced single-run writes would only measure the
// disk) with 100,000 runs of 20 experiments over 90 days, then runs the binary:
//   history            the table of every experiment
//   history --json     every run as JSON (the heaviest output)
//   history --experiment T --since 7d
// each --runs N times (default 10), and reports the median and p90 wall time (fork to reaped
// exit). The baseline is `ringfence history` on an empty state dir: the binary's start-up. Also
// times --records single-run writes through RunHistory::Record (WAL, synchronous=FULL), the
// cost each run pays at its end. Prints one JSON line at the end.
//
//   build/bench/history_query [--runs N] [--binary PATH] [--records N]

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/figures.h"
#include "core/history/sqlite_history.h"

namespace ringfence {
namespace {

namespace fs = std::filesystem;
using bench::Quantile;

double RunMs(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s exited %d\n", argv[1].c_str(), status);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct Figure {
  std::string name;
  double p50, p90;
};

Figure Measure(const std::string& name, const std::vector<std::string>& argv, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) ms.push_back(RunMs(argv));
  return {name, Quantile(ms, 0.5), Quantile(ms, 0.9)};
}

void Fill(const std::string& db_path, int runs) {
  { auto created = OpenSqliteHistory(db_path); }  // the schema, migrated to this version
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO runs (run_id, title, started_ms, ended_ms, status, exit_code, "
                     "journal, file, file_hash, reason, time_to_detect_ms, faults, targets, "
                     "trigger, entry) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     -1, &stmt, nullptr);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t span = 90LL * 24 * 3600 * 1000;
  const char* statuses[] = {"passed", "passed", "passed", "failed", "aborted", "error"};
  for (int i = 0; i < runs; ++i) {
    const std::string id = "run-" + std::to_string(i);
    const std::string title = "experiment " + std::to_string(i % 20);
    const int64_t at = now - span + span / runs * i;
    const char* status = statuses[i % 6];
    sqlite3_bind_text(stmt, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, title.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 3, at);
    sqlite3_bind_int64(stmt, 4, at + 30000);
    sqlite3_bind_text(stmt, 5, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 6, i % 6 == 0 ? 0 : 1);
    sqlite3_bind_text(stmt, 7, "/var/lib/ringfence/journals/x.json", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, "scenarios/x.json", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 9, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 10, "all probes held", -1, SQLITE_STATIC);
    if (std::strcmp(status, "aborted") == 0) {
      sqlite3_bind_int64(stmt, 11, 1000 + i % 5000);
    } else {
      sqlite3_bind_null(stmt, 11);
    }
    sqlite3_bind_int(stmt, 12, 1);
    sqlite3_bind_int(stmt, 13, 3);
    sqlite3_bind_text(stmt, 14, "scheduled", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 15, "entry", -1, SQLITE_STATIC);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

int Main(int argc, char** argv) {
  int runs = 10;
  int records = 200;
  std::string binary = RINGFENCE_BENCH_BINARY_DIR "/ringfence";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--binary") == 0) binary = argv[i + 1];
    if (std::strcmp(argv[i], "--records") == 0) records = std::atoi(argv[i + 1]);
  }
  char tmpl[] = "/tmp/ringfence-bench-history-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  fs::create_directories(dir + "/state");
  fs::create_directories(dir + "/empty");
  fs::permissions(dir + "/state", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(dir + "/empty", fs::perms::owner_all, fs::perm_options::replace);
  constexpr int kRuns = 100000;
  const auto t0 = std::chrono::steady_clock::now();
  Fill(dir + "/state/history.db", kRuns);
  const double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("filled %d runs in %.1f s (load average %.2f)\n", kRuns, fill_s,
              bench::LoadAverage());

  std::vector<Figure> figures;
  const Figure baseline =
      Measure("baseline: history, empty", {binary, "history", "--state-dir", dir + "/empty"}, runs);
  figures.push_back(Measure("history", {binary, "history", "--state-dir", dir + "/state"}, runs));
  figures.push_back(Measure("history --json",
                            {binary, "history", "--json", "--state-dir", dir + "/state"}, runs));
  figures.push_back(Measure(
      "history --json --experiment T",
      {binary, "history", "--json", "--experiment", "experiment 7", "--state-dir", dir + "/state"},
      runs));
  figures.push_back(Measure("history --experiment --since 7d",
                            {binary, "history", "--experiment", "experiment 7", "--since", "7d",
                             "--state-dir", dir + "/state"},
                            runs));
  std::printf("%-36s %9s %9s %7s\n", "", "p50 ms", "p90 ms", "ratio");
  std::printf("%-36s %9.1f %9.1f %7s\n", baseline.name.c_str(), baseline.p50, baseline.p90, "1.00");
  nlohmann::json out = {{"runs", kRuns}, {"baseline_p50_ms", baseline.p50}};
  for (const auto& f : figures) {
    std::printf("%-36s %9.1f %9.1f %7.2f\n", f.name.c_str(), f.p50, f.p90, f.p50 / baseline.p50);
    out[f.name + " p50_ms"] = f.p50;
  }

  // The cost at the end of every run: one fsynced write.
  auto history = OpenSqliteHistory(dir + "/state/history.db");
  std::vector<double> write_ms;
  for (int i = 0; i < records && history.ok(); ++i) {
    RunRecord r;
    r.run_id = "bench-" + std::to_string(i);
    r.title = "bench";
    r.status = "passed";
    const auto w0 = std::chrono::steady_clock::now();
    (void)(*history)->Record(r);
    write_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count());
  }
  if (!write_ms.empty()) {
    std::printf("one run recorded (Record, WAL, synchronous=FULL): p50 %.2f ms, p90 %.2f ms\n",
                Quantile(write_ms, 0.5), Quantile(write_ms, 0.9));
    out["record_p50_ms"] = Quantile(write_ms, 0.5);
  }
  out["load_average"] = bench::LoadAverage();
  std::printf("%s\n", out.dump().c_str());
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) { return ringfence::Main(argc, argv); }
