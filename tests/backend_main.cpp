// The backend tests' main (tests/test_backend.cpp): exits 77 (CTest: Skipped) when no GPU is
// visible, else runs Catch2.
#include <cstdio>

#include "engine/device.h"
#include "tests/catch_session.h"

int main(int argc, char** argv) {
  if (!coopgen::device::cuda_available()) {
    std::printf("SKIPPED: no CUDA GPU is visible; the gpu tests run on the GPU machine (scripts/gpu_check.sh)\n");
    return 77;
  }
  return coopgen::testing::run_catch(argc, argv);
}
