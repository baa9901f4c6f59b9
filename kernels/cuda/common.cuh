// Shared device helpers of the CUDA kernels: the one launch helper (every kernel goes through it,
// no <<<>>> elsewhere, so the CPU emulator can take its place), grid-stride indexing and block
// reductions. Block sizes are multiples of 32, so every warp shuffle runs on a full warp.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <unordered_map>

#include "core/counters.h"
#include "core/error.h"
#include "kernels/cuda/check.h"

// Dynamic shared memory is declared through this macro: the emulator binds it at run time.
#ifndef COOPGEN_SIM
#define COOPGEN_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

namespace coopgen::cuda {

// Full unrolling, where an index into a per-thread array must be known at compile time for the
// array to stay in registers (ptxas otherwise puts it in local memory: a stack frame); GCC's
// spelling in the sim build.
// COOPGEN_NO_UNROLL keeps a loop rolled where unrolling would only lengthen live ranges.
#ifdef COOPGEN_SIM
#define COOPGEN_UNROLL _Pragma("GCC unroll 16")
#define COOPGEN_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define COOPGEN_UNROLL _Pragma("unroll")
#define COOPGEN_NO_UNROLL _Pragma("unroll 1")
#endif

constexpr int kBlock = 256;  // threads per block for the simple kernels
constexpr float kLog2e = 1.4426950408889634f;  // e^x = 2^(x·log2 e): exp2f is one SFU instruction

inline unsigned grid_for(int64_t n, int block = kBlock, int64_t cap = 65535 * 8) {
  int64_t g = (n + block - 1) / block;
  return unsigned(g < 1 ? 1 : (g > cap ? cap : g));
}

// An attribute of the current GPU; `what` names it in the error.
inline int device_attribute(cudaDeviceAttr attribute, const char* what) {
  int device = 0, value = 0;
  cuda_check(cudaGetDevice(&device), "CUDA: cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&value, attribute, device), "CUDA: ", what);
  return value;
}

// The GPU's streaming multiprocessors, queried once (one GPU per process, chosen before first use).
inline int sm_count() {
  static const int n = [] {
    const int count = device_attribute(cudaDevAttrMultiProcessorCount, "the number of multiprocessors");
    if (count < 1) fail("CUDA: the device reports ", count, " multiprocessors");
    return count;
  }();
  return n;
}

// Launches `kernel` and checks the launch; the error names the kernel. In the sim build
// (kernels/sim/sim.h) the emulator runs it on the CPU instead, synchronously.
template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
            cudaStream_t stream, Args... args) {
  ++device_counters().launches;
  // The hardware's grid limits, refused on every build with the kernel's name (the emulator would
  // otherwise run what a GPU refuses).
  if (grid.x > 0x7fffffffu || grid.y > 65535u || grid.z > 65535u)
    fail("CUDA kernel ", name, ": grid (", grid.x, ", ", grid.y, ", ", grid.z,
         ") exceeds the device limits (x below 2^31, y and z at most 65535)");
#ifdef COOPGEN_SIM
  (void)stream;
  sim::launch(name, grid, block, smem, [kernel, args...] { kernel(static_cast<Params>(args)...); });
#else
  // Beyond 48 kB a kernel must opt in (Hopper allows 227 kB): once per kernel and size, not per launch.
  static std::unordered_map<const void*, size_t> opted_in;
  size_t& opted = opted_in[reinterpret_cast<const void*>(kernel)];
  if (smem > 48 * 1024 && smem > opted) {
    cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "CUDA kernel ", name,
               ": ", smem, " bytes of shared memory");
    opted = smem;
  }
  kernel<<<grid, block, smem, stream>>>(static_cast<Params>(args)...);
  cuda_check(cudaGetLastError(), "CUDA kernel ", name, " failed to launch");
#endif
}

// Storage types of the Float ops: f32, or bf16 under precision bf16 (activations; the arithmetic is
// f32 in registers either way). Loads widen, stores round to nearest even.
using bf16_t = __nv_bfloat16;
template <class T> __device__ __forceinline__ float to_f32(T v) { return float(v); }
__device__ __forceinline__ float to_f32(bf16_t v) { return __bfloat162float(v); }
template <class T> __device__ __forceinline__ T from_f32(float v) { return T(v); }
template <> __device__ __forceinline__ bf16_t from_f32<bf16_t>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ int64_t global_index() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Reduces over the block and returns the result to every thread. `scratch` holds 32 floats of
// shared memory; the trailing barrier lets the caller reuse it at once.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float* scratch) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  v = kMax ? warp_max(v) : warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const float identity = kMax ? -INFINITY : 0.0f;
  v = threadIdx.x < warps ? scratch[threadIdx.x] : identity;
  if (warp == 0) v = kMax ? warp_max(v) : warp_sum(v);
  if (threadIdx.x == 0) scratch[0] = v;
  __syncthreads();
  v = scratch[0];
  __syncthreads();
  return v;
}
__device__ __forceinline__ float block_sum(float v, float* scratch) { return block_reduce<false>(v, scratch); }
__device__ __forceinline__ float block_max(float v, float* scratch) { return block_reduce<true>(v, scratch); }

}  // namespace coopgen::cuda
