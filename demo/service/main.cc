// ringfence-demo-service: a small HTTP service for demos, tests and benchmarks (docs/demo.md).
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "demo/service/demo_server.h"

namespace {

constexpr const char* kUsage =
    "usage: ringfence-demo-service --port P [--content FILE] [--fleet-id ID] [--fields N] "
    "[--work-ms MS] [--depends NAME=URL:MODE]...\n"
    "  --port P        listen on 127.0.0.1:P (1..65535, required)\n"
    "  --content FILE  content records to serve; reloaded on SIGHUP\n"
    "  --fleet-id ID   reported by /health (default \"\")\n"
    "  --fields N      fields per content record (1..4096, default 20)\n"
    "  --work-ms MS    CPU time spent by GET /work (0..10000, default 2)\n"
    "  --depends NAME=http://IPv4:PORT/PATH:MODE\n"
    "                  GET /work calls it first; MODE hard (fails with it: 503), soft (falls\n"
    "                  back on a 50 ms slower path) or timeout=MSms (gives up after MS ms and\n"
    "                  falls back at once); repeatable, called in order\n";

std::optional<int> ParseIntIn(std::string_view text, int lo, int hi) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    return std::nullopt;
  }
  return value;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "ringfence-demo-service: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ringfence::demo::DemoServerOptions options;
  bool has_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flag != "--port" && flag != "--content" && flag != "--fleet-id" && flag != "--fields" &&
        flag != "--work-ms" && flag != "--depends") {
      return UsageError("unknown flag: " + std::string(flag));
    }
    if (i + 1 >= argc) return UsageError(std::string(flag) + " needs a value");
    std::string_view value = argv[++i];
    if (flag == "--port") {
      auto port = ParseIntIn(value, 1, 65535);
      if (!port) return UsageError("--port: not a port number: " + std::string(value));
      options.port = *port;
      has_port = true;
    } else if (flag == "--depends") {
      std::string error;
      auto spec = ringfence::demo::ParseDependencySpec(std::string(value), error);
      if (!spec) return UsageError("--depends: " + error);
      options.depends.push_back(*spec);
    } else if (flag == "--content") {
      options.content_file = value;
    } else if (flag == "--fleet-id") {
      options.fleet_id = value;
    } else if (flag == "--fields") {
      auto fields = ParseIntIn(value, 1, 4096);
      if (!fields) return UsageError("--fields: not in 1..4096: " + std::string(value));
      options.fields = *fields;
    } else {
      auto work = ParseIntIn(value, 0, 10000);
      if (!work) return UsageError("--work-ms: not in 0..10000: " + std::string(value));
      options.work_ms = *work;
    }
  }
  if (!has_port) return UsageError("--port is required");

  auto logger = spdlog::stderr_logger_mt("demo");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e ringfence-demo-service[%P] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);

  return ringfence::demo::RunDemoServer(options);
}
