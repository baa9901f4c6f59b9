// Catch2's implementation, compiled once for every test program (catch_session.h). As the
// framework, not code under test (tests/CMakeLists.txt: coopgen_test_framework).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/catch_session.h"

int coopgen::testing::run_catch(int argc, char** argv) { return Catch::Session().run(argc, argv); }
