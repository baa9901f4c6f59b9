// The backend tests' main (tests/test_backend.cpp): exits 77 (CTest: Skipped) when no GPU is
// visible, else runs Catch2. A file of its own so that Catch2's implementation is compiled as the
// framework (tests/CMakeLists.txt: coopgen_test_framework), not with the tests' flags.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "engine/device.h"

int main(int argc, char** argv) {
  if (!coopgen::device::cuda_available()) {
    std::printf("SKIPPED: no CUDA GPU is visible; the gpu tests run on the GPU machine (scripts/gpu_check.sh)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
