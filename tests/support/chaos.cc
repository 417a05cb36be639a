#include "tests/support/chaos.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/base/regex.h"
#include "core/ledger/file_ledger.h"

namespace ringfence::testing {

namespace {
template <typename F>
void ForEachCmdline(F&& f) {
  DIR* d = ::opendir("/proc");
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::string cmd = ReadFile(std::string("/proc/") + e->d_name + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    f(static_cast<pid_t>(std::stoi(e->d_name)), cmd);
  }
  ::closedir(d);
}
}  // namespace

std::vector<pid_t> ProcessesRunning(const std::string& cmdline) {
  std::vector<pid_t> out;
  ForEachCmdline([&](pid_t pid, const std::string& cmd) {
    if (cmd == cmdline) out.push_back(pid);
  });
  return out;
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  ForEachCmdline([&](pid_t pid, const std::string& cmd) {
    if (cmd.find(needle) != std::string::npos && cmd.find("ringfence") != std::string::npos) {
      out.push_back(pid);
    }
  });
  return out;
}

int CountProcesses(const std::string& regex) {
  const Regex re(regex);  // RE2: another test's 100,000-character command line is no risk
  int n = 0;
  ForEachCmdline([&](pid_t, const std::string& cmd) {
    if (re.Search(cmd) && SleepChildren::State(0) != 'Z') ++n;
  });
  return n;
}

ChaosRun::ChaosRun(const TempDir& dir, nlohmann::json step, nlohmann::json targets)
    : dir_(dir), file_(dir.File("chaos.json")) {
  nlohmann::json doc = {{"version", 1},
                        {"title", "chaos"},
                        {"targets", targets},
                        {"method", {step}},
                        {"guards", nlohmann::json::array()}};
  dir.Write("chaos.json", doc.dump());
}

std::string ChaosRun::state() const { return dir_.File("state"); }

std::vector<std::string> ChaosRun::RunArgs() const {
  return {
      RINGFENCE_BINARY,   "run",  file_, "--journal", dir_.File("j.json"), "--state-dir", state(),
      "--watchdog-grace", "300ms"};
}

bool ChaosRun::LedgersClean() const {
  for (const auto& path : ListLedgers(state())) {
    auto c = ReadLedger(path);
    if (!c.ok() || !c->Outstanding().empty() || !c->problems.empty()) return false;
  }
  return true;
}

void ChaosRun::KillAtSeededPoints(int points, unsigned seed, int max_delay_ms,
                                  const std::function<std::string()>& leftovers) {
  // scripts/chaos-soak raises the count and varies the seed; CI uses the fixed defaults.
  if (const char* p = std::getenv("RINGFENCE_CHAOS_POINTS")) points = std::max(1, std::atoi(p));
  if (const char* s = std::getenv("RINGFENCE_CHAOS_SEED"))
    seed += static_cast<unsigned>(std::atoll(s));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, max_delay_ms);
  for (int i = 0; i < points; ++i) {
    const int d = delay_ms(rng);
    {
      ChildRun run(RunArgs(), dir_.path());
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
      run.Signal(SIGKILL);
      run.Wait();
    }
    const std::string where = "kill point " + std::to_string(i) + " (" + std::to_string(d) + " ms)";
    ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }))
        << where << ": a watchdog or worker is still running";
    std::string left;
    ASSERT_TRUE(Eventually([&] { return (left = leftovers()).empty(); }, std::chrono::seconds(5)))
        << where << ": " << left;
    ASSERT_TRUE(LedgersClean()) << where << ": a ledger shows faults not reverted";
  }
}

}  // namespace ringfence::testing
