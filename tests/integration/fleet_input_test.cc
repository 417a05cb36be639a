// Bad fleet input through the CLI: every error printed word for word, exit 2, nothing touched
// (no host is contacted: the addresses below do not exist).
#include <sys/stat.h>

#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

class FleetInputTest : public ::testing::Test {
 protected:
  FleetInputTest() {
    dir_.Write("id", "key");
    dir_.Write(
        "exp.json",
        nlohmann::json(
            {{"version", 1},
             {"title", "fleet input"},
             {"targets",
              {{"web",
                {{"hosts", {{"tags", {{"role", "web"}}}, {"select", {{"percent", 20}}}}},
                 {"process", {{"name", "nginx"}}}}},
               {"db", {{"hosts", {{"tags", {{"role", "db"}}}}}, {"process", {{"name", "pg"}}}}}}},
             {"method",
              {{{"type", "process_pause"}, {"target", "web"}, {"duration", "1s"}},
               {{"type", "process_pause"}, {"target", "db"}, {"duration", "1s"}}}},
             {"guards", nlohmann::json::array()}})
            .dump(2));
  }
  nlohmann::json Host(const std::string& name, const std::string& role) {
    return {{"name", name},
            {"address", "192.0.2.1"},
            {"identity_file", dir_.File("id")},
            {"tags", {{"role", role}}}};
  }
  int Run(const nlohmann::json& inventory, std::string* err) {
    dir_.Write("inv.json", inventory.dump(2));
    ChildRun run(
        {RINGFENCE_BINARY, "run", dir_.File("exp.json"), "--inventory", dir_.File("inv.json"),
         "--state-dir", dir_.File("state"), "--journal", dir_.File("journal.json")},
        dir_.path());
    const int code = run.Wait(std::chrono::seconds(30));
    *err = run.err();
    return code;
  }
  TempDir dir_;
};

TEST_F(FleetInputTest, BadInventoryIsRefusedWordForWord) {
  nlohmann::json bad_port = Host("web-2", "web");
  bad_port["port"] = 70000;
  nlohmann::json bad_key = Host("web-3", "web");
  bad_key["identity_file"] = dir_.File("missing-key");
  std::string err;
  EXPECT_EQ(Run({{"hosts", {Host("web-1", "web"), Host("web-1", "web"), bad_port, bad_key}}}, &err),
            2);
  const std::string inv = dir_.File("inv.json");
  EXPECT_EQ(err, inv +
                     ": /hosts/1/name: \"web-1\": a name not used by another host (/hosts/0 "
                     "uses it)\n" +
                     inv + ": /hosts/2/port: 70000: an integer from 1 to 65535\n" + inv +
                     ": /hosts/3/identity_file: \"" + dir_.File("missing-key") +
                     "\": a readable file (No such file or directory)\n"
                     "3 errors; nothing was run\n");
  EXPECT_TRUE(ReadFile(dir_.File("journal.json")).empty());
}

TEST_F(FleetInputTest, TagsMatchingNothingAndPercentRoundingToZeroAreRefused) {
  std::string err;
  EXPECT_EQ(Run({{"hosts", {Host("web-1", "web"), Host("web-2", "web")}}}, &err), 2);
  const std::string exp = dir_.File("exp.json");
  // In file order (the test writes its targets sorted by name).
  EXPECT_EQ(err, exp +
                     ": /targets/db/hosts/tags: {\"role\":\"db\"}: tags that match at least "
                     "one host of the inventory " +
                     dir_.File("inv.json") + " (none has role=db)\n" + exp +
                     ": /targets/web/hosts/select/percent: 20: a percent that selects at least "
                     "one of the 2 matching hosts (it rounds down to 0)\n2 errors; nothing was "
                     "run\n");
  EXPECT_TRUE(ReadFile(dir_.File("journal.json")).empty());
}

// Issue 11: an inventory file named by the experiment that cannot be read is the experiment's
// error, at /inventory; one that is not a regular file is refused before it is opened.
TEST_F(FleetInputTest, AMissingInventoryFileIsReportedAtItsPointer) {
  nlohmann::json doc = nlohmann::json::parse(ReadFile(dir_.File("exp.json")));
  doc["inventory"] = "missing.json";
  dir_.Write("exp.json", doc.dump(2));
  ChildRun run({RINGFENCE_BINARY, "run", dir_.File("exp.json"), "--state-dir", dir_.File("state"),
                "--journal", dir_.File("journal.json")},
               dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 2);
  EXPECT_EQ(run.err(), dir_.File("exp.json") +
                           ": /inventory: \"missing.json\": a readable JSON file (" + dir_.path() +
                           "/missing.json: cannot read the file (No such file or directory))\n"
                           "1 error; nothing was run\n");
  ChildRun device({RINGFENCE_BINARY, "run", dir_.File("exp.json"), "--inventory", "/dev/zero",
                   "--state-dir", dir_.File("state"), "--journal", dir_.File("journal.json")},
                  dir_.path());
  EXPECT_EQ(device.Wait(std::chrono::seconds(30)), 2);
  EXPECT_EQ(device.err(),
            "/dev/zero: /: a character device: a regular JSON file\n1 error; nothing was run\n");
  EXPECT_TRUE(ReadFile(dir_.File("journal.json")).empty());
}

// Issue 11: a host reply with "ok": "yes" aborted a fleet --dry-run (exit 134). Through an
// `ssh` on PATH that plays a host answering `version` right and `match` with "ok": "yes", the
// run ends with exit 3 and the host named.
TEST_F(FleetInputTest, AHostReplyOfTheWrongTypeNamesTheHost) {
  dir_.Write("ssh", std::string("#!/bin/sh\n"
                                "for last; do :; done\n"
                                "case \"$last\" in\n"
                                "  *\" host version\"*) cat >/dev/null; echo "
                                "'{\"ok\":true,\"version\":\"") +
                        RINGFENCE_VERSION +
                        "\",\"protocol\":1}' ;;\n"
                        "  *\" host match\"*) cat >/dev/null; echo "
                        "'{\"ok\":\"yes\",\"processes\":[]}' ;;\n"
                        "  *\" host session\"*) exit 1 ;;\n"
                        "  *) cat >/dev/null 2>&1; exit 0 ;;\n"
                        "esac\n");
  ASSERT_EQ(::chmod(dir_.File("ssh").c_str(), 0755), 0);
  dir_.Write("inv.json", nlohmann::json({{"hosts", {Host("web-1", "web")}}}).dump());
  nlohmann::json doc = nlohmann::json::parse(ReadFile(dir_.File("exp.json")));
  doc["targets"] = {{"web", {{"hosts", {{"names", {"web-1"}}}}, {"process", {{"name", "nginx"}}}}}};
  doc["method"] = {{{"type", "process_pause"}, {"target", "web"}, {"duration", "1s"}}};
  dir_.Write("exp.json", doc.dump(2));
  const std::string path = "PATH=" + dir_.path() + ":" + std::getenv("PATH");
  ChildRun run({"/usr/bin/env", path, RINGFENCE_BINARY, "run", dir_.File("exp.json"), "--inventory",
                dir_.File("inv.json"), "--dry-run", "--state-dir", dir_.File("state")},
               dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 3) << run.err();
  EXPECT_NE(run.err().find(": host web-1: the host's reply is malformed: \"ok\" is \"yes\", not "
                           "true or false"),
            std::string::npos)
      << run.err();
}

}  // namespace
}  // namespace ringfence::testing
