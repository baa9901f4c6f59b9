// The Catch2 test programs' main.
#include "tests/catch_session.h"

int main(int argc, char** argv) { return coopgen::testing::run_catch(argc, argv); }
