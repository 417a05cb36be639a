#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/fake_env.h"

namespace ringfence::testing {

// An `nft` (and `ip netns exec … nft`) that only remembers which inet tables exist, for unit
// tests of the nft faults on a FakeEnv: a ruleset starting "create table inet X" creates X (and
// fails like nft when X exists), "delete table inet X" deletes it (fails when it is gone),
// "list tables inet" lists them; everything else (--check, --json list) succeeds with no
// output. Commands that are not nft fail with exit 127. Thread-safe.
class FakeNft {
 public:
  // Makes `env` answer its commands with this nft; the FakeNft must outlive `env`'s use.
  void AnswerFor(FakeEnv& env);
  std::set<std::string> tables() const;
  // Each nft call's arguments after the program, joined with spaces ("--check create table …"
  // cut at the first newline): what a test asserts.
  static std::vector<std::string> NftCalls(const FakeEnv& env);

 private:
  Result<CommandResult> Answer(const FakeEnv::CommandCall& call);

  mutable std::mutex mu_;
  std::set<std::string> tables_;
};

}  // namespace ringfence::testing
