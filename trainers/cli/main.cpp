#include <csignal>

#include "trainers/cli/cli.h"

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) hit while writing should fail that write (EFBIG, reported with
  // the file's name, the previous checkpoint kept), not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  return coopgen::cli_main(argc, argv);
}
