// Inventories (core/model/inventory.cc): the file `--inventory` names, read as the runner reads it
// (size check, syntax errors with line and column, every field checked). Identity and
// known_hosts paths are resolved against the file's (private, empty) directory and opened, as
// at run time. A valid inventory then answers tag lookups and host selections.

#include <random>

#include "core/model/inventory.h"
#include "core/targets/host_selection.h"
#include "fuzz/fuzz_support.h"

// The files the seeds name exist (relative ones in the inventory's directory, "~/" ones under
// HOME, which is the scratch directory here), so that seeds validate and reach host selection.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using ringfence::fuzz::ScratchDir;
  using ringfence::fuzz::WriteScratchFile;
  std::filesystem::create_directories(ScratchDir() + "/.ssh");
  for (const char* name :
       {"id_ed25519", "known_hosts", ".ssh/ringfence_ed25519", ".ssh/known_hosts"}) {
    (void)WriteScratchFile(name, "not a key\n");
  }
  ::setenv("HOME", ScratchDir().c_str(), 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  const std::string path = fuzz::WriteScratchFile("inventory.json", fuzz::AsText(data, size));
  ValidationErrors errors;
  const std::optional<Inventory> inventory = LoadInventoryFile(path, errors);
  for (const auto& line : errors.Format("inventory.json")) fuzz::Explain(line);
  if (!inventory) {
    if (errors.empty()) fuzz::Violated("an inventory was refused without an error");
    return 0;
  }
  if (inventory->hosts.empty()) fuzz::Violated("an inventory without hosts was accepted");
  std::mt19937_64 rng(7);
  for (const auto& host : inventory->hosts) {
    (void)host.Describe();
    (void)inventory->WithTags(host.tags);
    for (const SelectionMode mode :
         {SelectionMode::kAll, SelectionMode::kCount, SelectionMode::kPercent}) {
      TargetSpec spec;
      spec.name = "t";
      spec.pointer = "/targets/t";
      spec.has_process = false;
      spec.hosts = HostSelection{};
      spec.hosts->tags = host.tags;
      spec.hosts->select.mode = mode;
      spec.hosts->select.count = 1;
      spec.hosts->select.percent = 50;
      spec.hosts->allow_full_blast = true;
      (void)SelectHosts(spec, *inventory, rng);
      spec.hosts->tags.clear();
      spec.hosts->names = {host.name, host.name};
      (void)SelectHosts(spec, *inventory, rng);
    }
  }
  return 0;
}
