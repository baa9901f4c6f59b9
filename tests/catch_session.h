// Runs Catch2 on the program's arguments (its exit code): the implementation is compiled once, in
// catch_impl.cpp, and each test program's main (main.cpp, backend_main.cpp) calls this, so no main
// compiles Catch2 again (its single header declares Catch::Session only beside the implementation).
#pragma once

namespace coopgen::testing {
int run_catch(int argc, char** argv);
}
