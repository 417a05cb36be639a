#pragma once

#include <string>
#include <vector>

namespace ringfence::testing {

// Two network namespaces joined by a veth pair, made for one test and deleted with it:
// "server" has <prefix>.1, "client" has <prefix>.2 (a /24 of 10.213.<n>.0 unique to this
// fixture within the process), both with `lo` up. Deleting a namespace deletes its veth end;
// the destructor also kills every process still running inside either namespace.
// Requires root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2.
class NetnsPair {
 public:
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  bool ok() const { return ok_; }  // false: creation failed (see error())
  const std::string& error() const { return error_; }
  const std::string& server_ns() const { return server_ns_; }
  const std::string& client_ns() const { return client_ns_; }
  const std::string& server_addr() const { return server_addr_; }
  const std::string& client_addr() const { return client_addr_; }
  const std::string& server_if() const { return server_if_; }  // the veth end in server_ns
  const std::string& client_if() const { return client_if_; }  // the veth end in client_ns

  // argv prefixed with `ip netns exec <ns>`.
  static std::vector<std::string> In(const std::string& ns, std::vector<std::string> argv);
  // Runs a command to completion (bounded, 10 s); returns its exit code (-1 on failure to run).
  static int Run(const std::vector<std::string>& argv, std::string* output = nullptr);

 private:
  bool ok_ = false;
  std::string error_;
  std::string server_ns_, client_ns_, server_addr_, client_addr_, server_if_, client_if_;
};

}  // namespace ringfence::testing
