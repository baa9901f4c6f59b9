// The coopgen command line: `coopgen <command> [options] [key=value ...]`.
#pragma once

namespace coopgen {

// Returns the process exit code; every error is one line on stderr and exit code 1.
int cli_main(int argc, char** argv);

}  // namespace coopgen
