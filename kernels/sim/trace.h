// The emulator's access trace: what Nsight Compute's memory workload analysis measures, taken on
// the CPU from the kernels' own loads and stores (build with COOPGEN_SIM_TRACE: clang's
// SanitizerCoverage calls __sanitizer_cov_load{1,2,4,8,16} / _store… before each access of the
// kernels/cuda/*.cu code, and trace.cpp receives them; ldmatrix and cp.async, emulated in
// emulator.cpp, report their accesses through `access`).
//
// Model. An access is attributed to the CUDA thread running (sim::current), so to its warp
// (linear thread id / 32) and lane, and to its site: the return address of the callback, one
// machine instruction of the kernel. The accesses of a warp's lanes at the same site and the same
// per-lane visit count form one warp-level request (lanes that branched away do not take part).
// Requests close at each __syncthreads and at the end of the block. A struct copy that clang
// splits into field accesses (float4: four 4-byte loads at rising addresses within a few
// instructions) is joined back into one access of up to 16 naturally aligned bytes (so would a
// `#pragma unroll` loop over one lane's consecutive elements, which nvcc issues as separate
// accesses unless it can prove the alignment: read such a site's efficiency as an upper bound). Addresses are
// global (inside a live cudaMalloc allocation; the emulated cudaMalloc aligns to 256 bytes as the
// GPU's does), shared (the __shared__ section or the dynamic buffer; both, and each __shared__
// array, start at bank 0) or else local (the fiber's stack, kernel arguments): not counted.
// Atomics are not counted (the GPU serves them in their own pipe; sim.h keeps them out of the
// instrumentation), nor aggregate copies that stay memcpy calls (no kernel has one).
//   global: sectors = distinct 32-byte sectors the request touches; min_sectors = ⌈unique bytes/32⌉
//           (efficiency = min_sectors / sectors, Nsight's sectors per request against the ideal);
//   shared: the request is served in phases (4-byte accesses: all 32 lanes at once; 8-byte:
//           half-warps; 16-byte and ldmatrix: quarter-warps); a phase takes as many wavefronts as
//           the most distinct 4-byte words any one of the 32 banks (word % 32) must deliver (one
//           word read by many lanes is a broadcast: free), ideally ⌈distinct words / 32⌉.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

namespace coopgen::sim::trace {

// One access site of a kernel (a load or store instruction), summed over its warp requests.
struct Site {
  uintptr_t pc = 0;  // names the instruction; source_lines() turns it into file:line
  bool shared = false, store = false;
  uint64_t requests = 0;
  uint64_t lanes = 0;             // Σ active lanes
  uint64_t bytes = 0;             // Σ distinct bytes the lanes asked for
  uint64_t sectors = 0;           // global: Σ 32-byte sectors touched
  uint64_t min_sectors = 0;       // global: Σ ⌈distinct bytes / 32⌉
  uint64_t wavefronts = 0;        // shared: Σ wavefronts
  uint64_t ideal_wavefronts = 0;  // shared: Σ wavefronts without bank conflicts
  uint32_t max_ways = 0;          // shared: the worst request's ⌈wavefronts / ideal⌉
};

// One kernel launch.
struct Launch {
  std::string kernel;
  dim3 grid, block;
  std::vector<Site> sites;  // by rising pc
  uint64_t unique_load_sectors = 0;   // distinct global sectors read (DRAM lower bound: every reuse hits)
  uint64_t unique_store_sectors = 0;  // distinct global sectors written
};

// Whether the kernels of this build are instrumented (COOPGEN_SIM_TRACE).
bool available();
// Starts recording the launches that follow (fails without COOPGEN_SIM_TRACE).
void start();
// Stops recording and returns every launch since start(), in launch order.
std::vector<Launch> stop();
// "kernels/cuda/x.cu:123" for each pc (relative to the source tree; the innermost inlined frame
// outside kernels/sim/, ptx.cuh and system headers), through llvm-symbolizer; "?" when unknown.
std::vector<std::string> source_lines(const std::vector<uintptr_t>& pcs);

// ---- hooks: the emulated runtime and the emulator call these (no-ops unless recording) ----------
void allocated(const void* p, size_t bytes);  // cudaMalloc
void freed(const void* p);                    // cudaFree
void launch_begin(const char* kernel, dim3 grid, dim3 block);
void block_begin(const void* shared, size_t shared_bytes, const void* dynamic, size_t dynamic_bytes);
void close_requests();  // at a barrier's release and at the end of a block
void launch_end();
// One access of the running CUDA thread (for instructions the emulator carries out itself).
void access(const void* addr, unsigned bytes, bool store, uintptr_t pc);

}  // namespace coopgen::sim::trace
