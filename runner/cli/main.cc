#include "runner/cli/cli.h"

int main(int argc, char** argv) { return ringfence::RunCli(argc, argv); }
