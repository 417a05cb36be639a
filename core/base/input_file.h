#pragma once

#include <cstddef>
#include <string>

#include "core/base/status.h"

namespace ringfence {

// Why a user-named input file was not read, in the validation shape (core/base/validation.h): what
// was found ("a FIFO", "2097152 bytes", "cannot read the file (No such file or directory)")
// and what is allowed ("a regular JSON file", "a file of at most 1048576 bytes (1 MiB)").
struct InputFileRefusal {
  std::string found;
  std::string allowed;
};

// The limit on every input file that is not an experiment (inventories, hosts and waves
// files, scenario files): the same as an experiment's.
inline constexpr size_t kMaxInputFileBytes = 1 << 20;

// Reads a file the user named (an experiment, an inventory, a hosts or waves file, …) without
// trusting it: refuses anything but a regular file before opening it (a FIFO would block, a
// device could have effects on open or never end), opens it O_RDONLY|O_NONBLOCK|O_CLOEXEC,
// checks the opened file again with fstat (it may have been swapped), and reads at most
// `max_bytes` + 1 bytes, once (a file that grows while it is read is refused too).
//
// `kind` names the expected content in the refusal ("JSON file", "file"). On failure the
// Status is kNotFound, kPermission or kInvalidInput with the message "<found>: <allowed>", and
// `refusal` (when not null) holds the two parts. Never throws; safe from any thread.
Result<std::string> ReadInputFile(const std::string& path, size_t max_bytes,
                                  const std::string& kind = "JSON file",
                                  InputFileRefusal* refusal = nullptr);

// The file name by which the command line means standard input (`ringfence run -`).
inline constexpr const char* kStandardInputName = "-";

// Reads the open descriptor `fd` to its end with the bounds of ReadInputFile: a regular file
// larger than `max_bytes` is refused before any read, anything else (a pipe, a terminal, a
// device) is read up to `max_bytes` + 1 bytes and refused beyond `max_bytes`. The descriptor
// is neither closed nor made non-blocking (standard input is shared with the parent). Refusals
// and the Status are as for ReadInputFile. Never throws; blocks until EOF.
Result<std::string> ReadInputStream(int fd, size_t max_bytes, const std::string& kind = "JSON file",
                                    InputFileRefusal* refusal = nullptr);

// Standard input, read once per process through ReadInputStream: the first call reads it to
// its end and every later call returns the same bytes or the same refusal (standard input
// cannot be read twice; a command may read its input twice). A later call with a smaller
// `max_bytes` than the bytes read is refused like a larger file. Safe from any thread.
Result<std::string> ReadStandardInput(size_t max_bytes, const std::string& kind = "JSON file",
                                      InputFileRefusal* refusal = nullptr);

// A file named on the command line: ReadStandardInput for kStandardInputName ("-"), else
// ReadInputFile. Only for names the user typed: a path read from a file (an experiment's
// inventory, a ledger's journal) goes to ReadInputFile, so that it never reads standard input.
Result<std::string> ReadCommandLineInput(const std::string& path, size_t max_bytes,
                                         const std::string& kind = "JSON file",
                                         InputFileRefusal* refusal = nullptr);

}  // namespace ringfence
