// Runs one deliberately broken kernel (tests/sim/sim_kernels.cu) and says what caught it. CTest
// checks the output: the emulator's own message, an AddressSanitizer report (memcheck build) or a
// ThreadSanitizer report (racecheck build). Prints "NOT CAUGHT" when nothing noticed.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "tests/sim/sim_kernels.cuh"

using namespace coopgen::simtest;

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "";
  try {
    if (which == "read_past_end") {
      std::vector<float> in(100, 1.0f), out(100);
      read_past_end(in.data(), out.data(), 100);
    } else if (which == "half_barrier") {
      std::vector<float> out(64);
      half_barrier(out.data(), 64);
    } else if (which == "missing_barrier") {
      std::vector<float> out(64);
      missing_barrier(out.data(), 64);
      for (int t = 0; t < 64; ++t)
        if (out[size_t(t)] != float((t + 1) % 64)) {
          std::printf("wrong result: thread %d read %g, not its neighbour's %d (a race on shared memory)\n", t,
                      double(out[size_t(t)]), (t + 1) % 64);
          return 1;
        }
    } else if (which == "mma_wrong_fragment") {
      std::vector<uint16_t> a(256), b(128, 0);
      for (size_t k = 0; k < 256; ++k) a[k] = uint16_t(0x3f80 + (k % 7) * 0x80);  // 1, 2, 4, ... 64 in bf16
      for (size_t k = 0; k < 16; ++k) b[k * 8 + k % 8] = 0x3f80;                    // B picks columns of A
      auto value = [](uint16_t bits) { return double(coopgen::bf16_to_float(coopgen::bf16{bits})); };
      std::vector<float> d(128);
      mma_tile(d.data(), a.data(), b.data(), true);
      for (size_t r = 0; r < 16; ++r)
        for (size_t c = 0; c < 8; ++c) {
          double ref = 0;
          for (size_t k = 0; k < 16; ++k) ref += value(a[r * 16 + k]) * (b[k * 8 + c] ? 1.0 : 0.0);
          if (double(d[r * 8 + c]) != ref) {
            std::printf("mma result differs from the CPU reference at (%zu,%zu): %g, expected %g\n", r, c,
                        double(d[r * 8 + c]), ref);
            return 1;
          }
        }
    } else {
      std::fprintf(stderr, "usage: sim_broken read_past_end|half_barrier|missing_barrier|mma_wrong_fragment\n");
      return 2;
    }
  } catch (const coopgen::Error& e) {
    std::printf("caught: %s\n", e.what());
    return 1;
  }
  std::printf("NOT CAUGHT: %s ran without a report\n", which.c_str());
  return 0;
}
