#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/validation.h"

namespace ringfence {

class FaultCatalog;

// A dependency map (docs/dependency-map.md): a service, its SLOs, its dependencies and the
// faults to try on each. Every cell (dependency × fault) is an experiment of its own, generated
// here and validated by the experiment loader, so that a map runs through the same lifecycle,
// ledger and watchdog as any experiment.

// "127.0.0.1:5432" or "[::1]:5432": an address (never a name) and a port.
struct MapEndpoint {
  std::string address;
  int port = 0;
  bool ipv6 = false;
  std::string Format() const;
};

// What the team believes a dependency is (`expect`), and what a map finds.
enum class DependencyKind { kHard, kSoft, kNone };
std::string DependencyKindName(DependencyKind kind);  // "hard", "soft", "none"

enum class MapFaultKind { kLatency, kPartition, kKill };
std::string MapFaultKindName(MapFaultKind kind);  // "latency", "partition", "kill"

struct MapFault {
  MapFaultKind kind = MapFaultKind::kLatency;
  std::string pointer;  // "/dependencies/0/faults/1"
  Duration duration{0};
  Duration settle{0};  // how long the service has to recover once the fault is reverted
};

struct MapDependency {
  std::string name;
  std::string pointer;  // "/dependencies/0"
  std::optional<MapEndpoint> endpoint;
  nlohmann::json process;  // a process selector as in /targets (null when none)
  std::optional<DependencyKind> expect;
  std::vector<MapFault> faults;
};

// One dependency × fault: its generated experiment document (valid: the loader accepted it).
struct MapCell {
  size_t dependency = 0;  // index into DependencyMap::dependencies
  size_t fault = 0;       // index into that dependency's faults
  std::string name;       // "db × latency"
  nlohmann::ordered_json experiment;
};

struct DependencyMap {
  int version = 1;
  std::string title;
  std::string service_name;
  nlohmann::json service_process;  // the service's process selector
  std::optional<MapEndpoint> service_endpoint;
  bool discover = false;
  Duration discover_window = std::chrono::seconds(5);
  std::vector<MapDependency> dependencies;
  std::vector<MapCell> cells;  // dependencies in file order, each one's faults in file order
};

struct MapLoadOptions {
  // Fault types for checking the cells' experiments (FaultRegistry::Global()).
  const FaultCatalog* catalog = nullptr;
};

inline constexpr size_t kMaxMapDependencies = 100;
// How long a cell watches the SLOs before it injects (the fault step's start_after).
inline constexpr Duration kCellLeadIn = std::chrono::seconds(3);

// Reads and validates a map file ("-" reads standard input). On failure `errors` holds every
// problem at once (the texts of docs/dependency-map.md, with JSON pointers into the map file:
// an error the experiment loader finds in a cell points at the part of the map it came from)
// and the result is nullopt. Never throws.
std::optional<DependencyMap> LoadDependencyMapFile(const std::string& path,
                                                   const MapLoadOptions& options,
                                                   ValidationErrors& errors);
// The same from text already in memory.
std::optional<DependencyMap> LoadDependencyMapText(const std::string& text,
                                                   const MapLoadOptions& options,
                                                   ValidationErrors& errors);

}  // namespace ringfence
