// How long reading a Chaos Toolkit experiment takes next to reading the native experiment it
// becomes: YAML parse + conversion + the native loader, against the native loader alone on the
// converted text (the baseline, measured in the same program). Prints figures and a JSON line.
//   build/bench/ctk_import [--activities N] [--rounds R]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/figures.h"
#include "core/fault/fault.h"
#include "core/import/ctk_document.h"
#include "core/import/yaml_document.h"
#include "core/model/experiment.h"

namespace {

using ringfence::bench::LoadAverage;
using ringfence::bench::Quantile;
using Clock = std::chrono::steady_clock;

// A YAML experiment: a hypothesis of three probes and `n` method actions with pauses and refs.
std::string Experiment(int n) {
  std::string y =
      "title: bench\nconfiguration:\n  port: 8080\n  dir: /tmp\nsecrets:\n  s:\n    token: t0k\n"
      "steady-state-hypothesis:\n  title: h\n  probes:\n"
      "    - {type: probe, name: a, tolerance: 200, provider: {type: http, url: "
      "'http://127.0.0.1:${port}/health'}}\n"
      "    - type: probe\n      name: b\n      tolerance: {type: jsonpath, path: $.status, "
      "expect: ok}\n      provider: {type: http, url: 'http://127.0.0.1:${port}/health'}\n"
      "    - {type: probe, name: c, tolerance: [0, 1], provider: {type: process, path: test, "
      "arguments: '-d ${dir}'}}\nmethod:\n";
  for (int i = 0; i < n; ++i) {
    const std::string name = "act-" + std::to_string(i);
    if (i % 4 == 3) {
      y += "  - ref: act-" + std::to_string(i - 1) + "\n";
      continue;
    }
    y += "  - type: action\n    name: " + name +
         "\n    provider:\n      type: process\n      path: sh\n      arguments: -c 'echo "
         "${token} > ${dir}/x'\n    pauses: {after: 0.01}\n";
  }
  return y;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int activities = 200, rounds = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--activities") == 0) activities = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  const std::string yaml = Experiment(activities);
  ringfence::LoadOptions load;
  load.catalog = &ringfence::FaultRegistry::Global();
  std::vector<double> ctk_ms, native_ms;
  std::string native_text;
  for (int r = 0; r < rounds; ++r) {
    ringfence::ValidationErrors errors;
    const auto t0 = Clock::now();
    auto doc = ringfence::ParseYamlDocument(yaml, 64, errors);
    ringfence::CtkOptions options;
    auto converted = doc ? ringfence::ConvertChaosToolkit(*doc, options, errors) : std::nullopt;
    std::optional<ringfence::Experiment> e;
    if (converted) {
      native_text = converted->native.dump();
      e = ringfence::LoadExperimentText(native_text, load, errors);
    }
    const auto t1 = Clock::now();
    if (!e) {
      std::fprintf(stderr, "invalid: %s\n", errors.Format("bench.yaml").front().c_str());
      return 1;
    }
    ctk_ms.push_back(Ms(t1 - t0));
    const auto t2 = Clock::now();
    auto baseline = ringfence::LoadExperimentText(native_text, load, errors);
    native_ms.push_back(Ms(Clock::now() - t2));
    if (!baseline) return 1;
  }
  const double ctk = Quantile(ctk_ms, 0.5), native = Quantile(native_ms, 0.5);
  std::printf(
      "Chaos Toolkit YAML, %d activities, %zu bytes: read+convert+load %.2f ms (p50), "
      "%.2f ms (p90)\n",
      activities, yaml.size(), ctk, Quantile(ctk_ms, 0.9));
  std::printf("baseline, the native loader on the converted text (%zu bytes): %.2f ms (p50)\n",
              native_text.size(), native);
  std::printf("ratio %.2f, load average %.2f\n", ctk / native, LoadAverage());
  std::printf(
      "{\"bench\": \"ctk_import\", \"activities\": %d, \"ctk_p50_ms\": %.3f, "
      "\"native_p50_ms\": %.3f, \"ratio\": %.3f, \"load\": %.2f}\n",
      activities, ctk, native, ctk / native, LoadAverage());
  return 0;
}
