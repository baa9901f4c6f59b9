#include "trainers/cli/cli.h"

int main(int argc, char** argv) { return coopgen::cli_main(argc, argv); }
