#include "core/engine/journal.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::ReadFile;
using testing::TempDir;

GuardSample Sample(FakeClock& clock, double value) {
  GuardSample s;
  s.at = clock.Now();
  s.value = value;
  return s;
}

class JournalWriterTest : public ::testing::Test {
 protected:
  JournalWriterTest() {
    experiment_.title = "journal";
    experiment_.document = {{"version", 1}, {"title", "journal"}};
  }
  std::unique_ptr<JournalWriter> Open(JournalWriter::Redact redact = nullptr) {
    auto w = JournalWriter::Open(
        path_, experiment_, "run-1",
        JournalWriter::Options{clock_, std::move(redact), std::chrono::seconds(2), false, {}});
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? std::move(*w) : nullptr;
  }
  json OnDisk() const { return json::parse(ReadFile(path_), nullptr, false); }
  // A final report with two guards that hold only their last sample (a bounded window).
  RunReport Report() const {
    RunReport r;
    r.run_id = "run-1";
    r.status = RunStatus::kPassed;
    r.guards =
        json::array({{{"name", "a"}, {"samples", json::array({"window"})}, {"samples_total", 3}},
                     {{"name", "b \"quoted\""}, {"samples", json::array()}, {"samples_total", 1}}});
    return r;
  }

  TempDir dir_;
  std::string path_ = dir_.File("journal.json");
  FakeClock clock_;
  Experiment experiment_;
};

TEST_F(JournalWriterTest, OpeningWritesAnIncompleteCheckpointAndAnEventLog) {
  auto w = Open();
  ASSERT_TRUE(w);
  json j = OnDisk();
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["incomplete"], true);
  EXPECT_EQ(j["status"], "incomplete");
  EXPECT_EQ(j["journal_version"], kJournalVersion);
  EXPECT_EQ(j["run_id"], "run-1");
  EXPECT_EQ(j["phase"], "starting");
  EXPECT_EQ(j["events"], "journal.json.events");
  const std::string events = ReadFile(path_ + ".events");
  EXPECT_EQ(events.substr(0, 16), "{\"at\":\"2024-07-1");  // the header line
  EXPECT_NE(events.find("\"event\":\"run\""), std::string::npos);
}

TEST_F(JournalWriterTest, CheckpointsCarryThePhaseAndTheLiveGuards) {
  auto w = Open();
  ASSERT_TRUE(w);
  w->SetLiveGuards([] { return json::array({{{"name", "a"}, {"samples_total", 7}}}); });
  RunReport r = Report();
  w->Checkpoint(r, "method");
  json j = OnDisk();
  EXPECT_EQ(j["phase"], "method");
  EXPECT_EQ(j["status"], "incomplete");
  EXPECT_EQ(j["ended_at"], nullptr);
  EXPECT_EQ(j["guards"][0]["samples_total"], 7);
  // A sample makes the next Flush rewrite the checkpoint; without one it does nothing.
  w->SetLiveGuards([] { return json::array({{{"name", "a"}, {"samples_total", 8}}}); });
  w->Flush();
  EXPECT_EQ(OnDisk()["guards"][0]["samples_total"], 7);
  w->GuardSampled("a", Sample(clock_, 1));
  w->Flush();
  EXPECT_EQ(OnDisk()["guards"][0]["samples_total"], 8);
  EXPECT_NE(ReadFile(path_ + ".events").find("\"event\":\"phase\",\"phase\":\"method\"}"),
            std::string::npos)
      << ReadFile(path_ + ".events");
}

TEST_F(JournalWriterTest, OperatorActionsAreOnDiskAsTheyAreTakenWithinAPhase) {
  auto w = Open();
  ASSERT_TRUE(w);
  RunReport r = Report();
  w->Checkpoint(r, "method");
  const json note = {{"at", "2024-07-10T00:00:01.000Z"},
                     {"who", "alice"},
                     {"action", "note"},
                     {"text", "p99 flat"}};
  w->OperatorActed(json::array({note}));
  json j = OnDisk();
  EXPECT_EQ(j["phase"], "method");
  EXPECT_EQ(j["operator_actions"], json::array({note}));
  // A refused request waits for the periodic flush; an older, shorter copy changes nothing.
  const json refused = {{"at", "2024-07-10T00:00:02.000Z"},
                        {"who", "client 10.0.0.9"},
                        {"action", "refused"},
                        {"text", "POST /abort: wrong or missing token"}};
  w->OperatorActed(json::array({note, refused}));
  EXPECT_EQ(OnDisk()["operator_actions"].size(), 1u);
  w->Flush();
  EXPECT_EQ(OnDisk()["operator_actions"], json::array({note, refused}));
  w->OperatorActed(json::array({note}));
  EXPECT_EQ(OnDisk()["operator_actions"].size(), 2u);
  // The engine's next checkpoint holds the actions it knew of: the longer list still wins.
  r.operator_actions = json::array({note});
  w->Checkpoint(r, "reverted");
  EXPECT_EQ(OnDisk()["phase"], "reverted");
  EXPECT_EQ(OnDisk()["operator_actions"].size(), 2u);
}

TEST_F(JournalWriterTest, FinishStreamsEverySampleOfEachGuardIntoTheJournal) {
  auto w = Open();
  ASSERT_TRUE(w);
  for (int i = 0; i < 3; ++i) {
    w->GuardSampled("a", Sample(clock_, i));
    clock_.Advance(std::chrono::milliseconds(50));
  }
  w->GuardSampled("b \"quoted\"", Sample(clock_, 42));
  EXPECT_EQ(w->samples_logged(), 4u);
  ASSERT_TRUE(w->Finish(JournalJson(Report(), experiment_)).ok());
  json j = OnDisk();
  ASSERT_FALSE(j.is_discarded()) << ReadFile(path_);
  EXPECT_EQ(j["incomplete"], false);
  EXPECT_EQ(j["status"], "passed");
  EXPECT_FALSE(j.contains("phase"));
  ASSERT_EQ(j["guards"][0]["samples"].size(), 3u);
  EXPECT_EQ(
      j["guards"][0]["samples"][0],
      json(
          {{"at", "2024-07-19T04:09:00.000Z"}, {"value", 0.0}, {"verdict", "ok"}, {"detail", ""}}));
  EXPECT_EQ(j["guards"][0]["samples"][2]["at"], "2024-07-19T04:09:00.100Z");
  EXPECT_EQ(j["guards"][0]["samples_dropped"], 0);
  ASSERT_EQ(j["guards"][1]["samples"].size(), 1u);
  EXPECT_EQ(j["guards"][1]["samples"][0]["value"], 42.0);
  EXPECT_TRUE(ReadFile(path_ + ".events").empty());  // removed once the journal is complete
  // A checkpoint after the end changes nothing.
  RunReport late = Report();
  w->Checkpoint(late, "late");
  EXPECT_EQ(OnDisk()["incomplete"], false);
}

TEST_F(JournalWriterTest, FinishWithoutSamplesWritesEmptyArrays) {
  auto w = Open();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Finish(JournalJson(Report(), experiment_)).ok());
  json j = OnDisk();
  ASSERT_FALSE(j.is_discarded()) << ReadFile(path_);
  EXPECT_EQ(j["guards"][0]["samples"], json::array());
}

TEST_F(JournalWriterTest, SecretsAreRedactedInTheLogAndTheJournal) {
  auto redact = [](const json& j) {
    std::string text = j.dump();
    for (size_t at; (at = text.find("hunter2")) != std::string::npos;) {
      text.replace(at, 7, "[redacted:pw]");
    }
    return json::parse(text);
  };
  auto w = Open(redact);
  ASSERT_TRUE(w);
  GuardSample s = Sample(clock_, 1);
  s.detail = "GET http://u:hunter2@127.0.0.1/";
  w->GuardSampled("a", s);
  EXPECT_EQ(ReadFile(path_ + ".events").find("hunter2"), std::string::npos);
  ASSERT_TRUE(w->Finish(JournalJson(Report(), experiment_)).ok());
  const std::string text = ReadFile(path_);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_NE(text.find("[redacted:pw]"), std::string::npos);
}

// After a crash: the checkpoint gets every sample of the log; other files are refused untouched.
TEST_F(JournalWriterTest, ACrashedRunsCheckpointIsCompletedFromTheLog) {
  auto w = Open();
  ASSERT_TRUE(w);
  RunReport r = Report();
  w->Checkpoint(r, "method");
  for (int i = 0; i < 300; ++i) w->GuardSampled("a", Sample(clock_, i));
  w.reset();  // as if killed: no Finish
  ASSERT_TRUE(CompleteJournalAfterCrash(path_, "run-1", "watchdog", clock_.Now()).ok());
  json j = OnDisk();
  ASSERT_FALSE(j.is_discarded()) << ReadFile(path_);
  EXPECT_EQ(j["incomplete"], true);
  EXPECT_EQ(j["phase"], "method");
  EXPECT_EQ(j["completed_after_crash"]["by"], "watchdog");
  EXPECT_EQ(j["guards"][0]["samples"].size(), 300u);
  EXPECT_EQ(j["guards"][0]["samples"][299]["value"], 299.0);

  EXPECT_EQ(CompleteJournalAfterCrash(path_, "run-2", "watchdog", clock_.Now()).code(),
            StatusCode::kInvalidInput);
  dir_.Write("other.json", "{\"keep\": true}");
  EXPECT_FALSE(
      CompleteJournalAfterCrash(dir_.File("other.json"), "run-1", "watchdog", clock_.Now()).ok());
  EXPECT_EQ(ReadFile(dir_.File("other.json")), "{\"keep\": true}");
}

TEST_F(JournalWriterTest, DiscardLeavesNothing) {
  auto w = Open();
  ASSERT_TRUE(w);
  w->Discard();
  EXPECT_TRUE(ReadFile(path_).empty());
  EXPECT_TRUE(ReadFile(path_ + ".events").empty());
}

}  // namespace
}  // namespace ringfence
