// Emulator overhead: how long one switch between CUDA threads takes (sim builds only).
//   bench_sim_switch [--threads N] [--rounds R] [--json FILE]
// A block of N threads passes R barriers; each barrier costs two fiber switches per thread
// (into the scheduler and back). Prints a line and writes JSON.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "kernels/cuda/common.cuh"

namespace {
__global__ void barrier_rounds_kernel(int rounds) {
  for (int r = 0; r < rounds; ++r) __syncthreads();
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 256, rounds = 2000;
  std::string json;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--threads")) threads = std::atoi(argv[k + 1]);
    else if (!std::strcmp(argv[k], "--rounds")) rounds = std::atoi(argv[k + 1]);
    else if (!std::strcmp(argv[k], "--json")) json = argv[k + 1];
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
    if (!f) return 1;
    std::fprintf(f, "{\"bench\": \"sim_switch\", \"threads\": %d, \"rounds\": %d, \"seconds\": %.6f, \"ns_per_switch\": %.2f}\n",
                 threads, rounds, s, ns);
    std::fclose(f);
  }
  return 0;
}
