#pragma once

namespace ringfence {

// The whole command line: `ringfence <command> [args]`. Returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace ringfence
