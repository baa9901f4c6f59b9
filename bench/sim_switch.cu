// Emulator overhead: how long one switch between CUDA threads takes (sim builds only).
//   bench_sim_switch [--threads N] [--rounds R] [--json FILE]
// A block of N threads passes R barriers; each barrier costs two fiber switches per thread
// (into the scheduler and back). Prints a line and writes JSON.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/parse.h"
#include "kernels/cuda/common.cuh"

namespace {
__global__ void barrier_rounds_kernel(int rounds) {
  for (int r = 0; r < rounds; ++r) __syncthreads();
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 256, rounds = 2000;
  std::string json;
  try {
    for (int k = 1; k < argc; k += 2) {
      if (k + 1 >= argc) coopgen::fail(argv[k], " needs a value");
      if (!std::strcmp(argv[k], "--threads")) threads = int(coopgen::whole_flag("--threads", argv[k + 1], 1, 1024));
      else if (!std::strcmp(argv[k], "--rounds")) rounds = int(coopgen::whole_flag("--rounds", argv[k + 1], 1, 1000000));
      else if (!std::strcmp(argv[k], "--json")) json = argv[k + 1];
      else coopgen::fail("unknown option ", argv[k], " (options: --threads --rounds --json)");
    }
  } catch (const coopgen::Error& e) {
    std::fprintf(stderr, "bench_sim_switch: error: %s\n", e.what());
    return 1;
  }
  using clock = std::chrono::steady_clock;
  coopgen::cuda::launch("barrier_rounds", barrier_rounds_kernel, 1, unsigned(threads), 0, nullptr, 1);  // warm-up
  const auto t0 = clock::now();
  coopgen::cuda::launch("barrier_rounds", barrier_rounds_kernel, 1, unsigned(threads), 0, nullptr, rounds);
  const double s = std::chrono::duration<double>(clock::now() - t0).count();
  const double switches = 2.0 * threads * (rounds + 1);
  const double ns = s * 1e9 / switches;
  std::printf("sim_switch: %d threads x %d barriers: %.3f s, %.1f ns per fiber switch\n", threads, rounds, s, ns);
  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    const bool written = f && std::fprintf(f, "{\"bench\": \"sim_switch\", \"threads\": %d, \"rounds\": %d, \"seconds\": %.6f, "
                                              "\"ns_per_switch\": %.2f}\n", threads, rounds, s, ns) > 0;
    if (!f || std::fclose(f) != 0 || !written) {
      std::fprintf(stderr, "bench_sim_switch: error: %s: cannot write\n", json.c_str());
      return 1;
    }
  }
  return 0;
}
