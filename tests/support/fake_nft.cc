#include "tests/support/fake_nft.h"

namespace ringfence::testing {
namespace {

bool IsNft(const std::string& program) {
  return program == "nft" || (program.size() > 4 && program.rfind("/nft") == program.size() - 4);
}

// The nft arguments of `argv`: after `ip netns exec NAME`, when it is there.
std::vector<std::string> NftArgs(const std::vector<std::string>& argv, bool* is_nft) {
  size_t at = 0;
  if (argv.size() > 4 && argv[1] == "netns" && argv[2] == "exec") at = 4;
  *is_nft = at < argv.size() && IsNft(argv[at]);
  if (!*is_nft) return {};
  return std::vector<std::string>(argv.begin() + static_cast<long>(at) + 1, argv.end());
}

}  // namespace

void FakeNft::AnswerFor(FakeEnv& env) {
  env.OnCommand([this](const FakeEnv::CommandCall& call) { return Answer(call); });
}

std::set<std::string> FakeNft::tables() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tables_;
}

std::vector<std::string> FakeNft::NftCalls(const FakeEnv& env) {
  std::vector<std::string> out;
  for (const FakeEnv::CommandCall& call : env.commands()) {
    bool is_nft = false;
    std::string line;
    for (const std::string& arg : NftArgs(call.argv, &is_nft)) {
      line += (line.empty() ? "" : " ") + arg.substr(0, arg.find('\n'));
    }
    out.push_back(is_nft ? line : "(not nft) " + call.argv.at(0));
  }
  return out;
}

Result<CommandResult> FakeNft::Answer(const FakeEnv::CommandCall& call) {
  bool is_nft = false;
  const std::vector<std::string> args = NftArgs(call.argv, &is_nft);
  CommandResult r;
  r.exit_code = 0;
  if (!is_nft) {
    r.exit_code = 127;
    return r;
  }
  std::lock_guard<std::mutex> lock(mu_);
  static const std::string kCreate = "create table inet ";
  if (args.size() == 1 && args[0].rfind(kCreate, 0) == 0) {
    const std::string name = args[0].substr(kCreate.size(), args[0].find('\n') - kCreate.size());
    if (!tables_.insert(name).second) {
      r.exit_code = 1;
      r.err = "Error: Could not process rule: File exists\n";
    }
  } else if (args.size() == 4 && args[0] == "delete" && args[1] == "table") {
    if (tables_.erase(args[3]) == 0) {
      r.exit_code = 1;
      r.err = "Error: Could not process rule: No such file or directory\n";
    }
  } else if (args == std::vector<std::string>{"list", "tables", "inet"}) {
    for (const std::string& t : tables_) r.out += "table inet " + t + "\n";
  }
  return r;
}

}  // namespace ringfence::testing
