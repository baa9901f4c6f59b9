// The CUDA execution emulator's device-side header. The sim build compiles every
// kernels/cuda/*.cu with the host compiler (-x c++) and this header force-included (-include),
// so the same source that nvcc builds for sm_90 runs on the CPU: each CUDA thread of a block is a
// fiber on one OS thread, blocks run one after another in a seeded random order, and
//   - threadIdx/blockIdx/blockDim/gridDim come from the running fiber (1–3 D);
//   - __shared__ variables live in one linker section that is poisoned (0xFF: NaN, −1) at each
//     block start; dynamic shared memory (COOPGEN_DYNAMIC_SHARED) likewise;
//   - with COOPGEN_SIM_TRACE, every load and store of the kernels is traced (kernels/sim/trace.h);
//   - __syncthreads is a barrier across the block's fibers that reports divergence (threads at
//     different barriers, or a thread that exits while others wait) instead of hanging;
//   - warp primitives rendezvous the lanes named by their mask (partial warps included) and
//     report masks that name missing or exited lanes;
//   - atomics are real atomic instructions, so ThreadSanitizer (the racecheck build) sees them as
//     synchronised while it reports plain conflicting accesses between barriers as races;
//   - mma.sync m16n8k16 is computed from the 32 lanes' fragments laid out as in the PTX ISA, and
//     ldmatrix x4 (.trans) distributes the rows the lanes name as the PTX ISA lays them out.
// The CUDA headers' host-side types (dim3, uint3, __nv_bfloat16, half, float4, ...) are used
// as they are. Device code the emulator cannot reach (wgmma, TMA, inline PTX) must sit behind
// `#ifndef COOPGEN_SIM` with a portable fallback; see docs/architecture.md.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <source_location>
#include <type_traits>

#define COOPGEN_SIM 1

namespace coopgen::sim {

#if defined(__cpp_lib_source_location)
using Loc = std::source_location;
#else
// clang 14 with libstdc++ (the traced build, kernels/sim/trace.h) has no std::source_location:
// the same two fields from the builtins it does have, filled in at the caller as the real one is.
struct Loc {
  static constexpr Loc current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    Loc loc;
    loc.file_ = file;
    loc.line_ = line;
    return loc;
  }
  constexpr const char* file_name() const { return file_; }
  constexpr unsigned line() const { return line_; }
  const char* file_ = "";
  unsigned line_ = 0;
};
#endif

struct ThreadState {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};
// The CUDA thread now running (set by the scheduler before it switches to a fiber).
extern thread_local ThreadState* current;

// Runs `body` once per CUDA thread of every block (blocks in a seeded random order); throws
// coopgen::Error naming the kernel, block, thread and source line on a detected fault. While a
// stream capture is open (kernels/sim/capture.h) the launch is recorded instead: `body` must hold
// the kernel's arguments by value.
void launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& body);

void syncthreads(const Loc& loc);
// Warp rendezvous: every lane named in `mask` contributes `bytes` bytes at `mine`; when all have
// arrived, `all` (32 × bytes) holds each lane's contribution at lane·bytes. `what` names the
// primitive in reports. Returns the calling lane's index.
unsigned warp_collective(unsigned mask, const char* what, const void* mine, size_t bytes, void* all, const Loc& loc);
void* dynamic_shared();
[[noreturn]] void device_error(const char* what, const Loc& loc);
void mma_m16n8k16_bf16(float* d, const uint32_t* a, const uint32_t* b, const float* c, const Loc& loc);
// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16: lane l names row l % 8 of matrix l / 8.
void ldmatrix_x4(uint32_t* r, const void* row, bool trans, const Loc& loc);
// cp.async.cg 16 bytes global → shared: checks that both addresses are 16-byte aligned and traces
// the copy (trace.h); the caller copies, in the kernel's own code (ptx.cuh).
void cp_async_16(void* shared_dst, const void* global_src, const Loc& loc);

template <class T> T shuffle(unsigned mask, T v, const char* what, int mode, int arg, int width, const Loc& loc) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16, "shuffle of an unsupported type");
  if (width <= 0 || width > 32 || (width & (width - 1))) device_error("shuffle width is not a power of two up to 32", loc);
  T all[32];
  const unsigned lane = warp_collective(mask, what, &v, sizeof(T), all, loc);
  const int seg = int(lane) & ~(width - 1);
  int src;
  switch (mode) {
    case 0: src = seg + (arg & (width - 1)); break;                                 // idx
    case 1: src = int(lane) ^ arg; if (src >= seg + width) src = int(lane); break;  // xor
    case 2: src = int(lane) - arg; if (src < seg) src = int(lane); break;           // up
    default: src = int(lane) + arg; if (src >= seg + width) src = int(lane); break;  // down
  }
  if (src < 0 || src > 31 || !(mask >> src & 1u)) device_error("shuffle reads a lane outside its mask", loc);
  return all[src];
}

// Atomics are not memory traffic the access trace counts (the GPU serves them in their own pipe,
// not as loads and stores): kept out of the clang builds' instrumentation.
#if defined(__clang__)
#define COOPGEN_SIM_UNTRACED __attribute__((noinline, no_sanitize("coverage")))
#else
#define COOPGEN_SIM_UNTRACED
#endif
template <class T> COOPGEN_SIM_UNTRACED T atomic_rmw(T* p, T v, int op) {
  T old, next;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  do {
    switch (op) {
      case 0: next = old + v; break;
      case 1: next = old > v ? old : v; break;
      default: next = old < v ? old : v; break;
    }
  } while (!__atomic_compare_exchange(p, &old, &next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}

}  // namespace coopgen::sim

#undef __shared__
// 128-byte aligned (the section too): each array starts at bank 0, so the traced build counts
// banks from each array's own base (kernels/sim/trace.h). `used`: clang would otherwise read an
// array no thread writes as the zeros of a static, not the poison the emulator writes.
#define __shared__ static __attribute__((section("coopgen_shared"), aligned(128), used))
#define COOPGEN_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::coopgen::sim::dynamic_shared())
#define threadIdx (::coopgen::sim::current->thread_idx)
#define blockIdx (::coopgen::sim::current->block_idx)
#define blockDim (::coopgen::sim::current->block_dim)
#define gridDim (::coopgen::sim::current->grid_dim)
#ifndef warpSize
#define warpSize 32
#endif
#define __launch_bounds__(...)

inline void __syncthreads(const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  coopgen::sim::syncthreads(loc);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  char mine = 0, all[32];
  coopgen::sim::warp_collective(mask, "__syncwarp", &mine, 1, all, loc);
}
template <class T> T __shfl_sync(unsigned mask, T v, int src, int width = 32, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return coopgen::sim::shuffle(mask, v, "__shfl_sync", 0, src, width, loc);
}
template <class T> T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return coopgen::sim::shuffle(mask, v, "__shfl_xor_sync", 1, lane_mask, width, loc);
}
template <class T> T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return coopgen::sim::shuffle(mask, v, "__shfl_up_sync", 2, int(delta), width, loc);
}
template <class T> T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return coopgen::sim::shuffle(mask, v, "__shfl_down_sync", 3, int(delta), width, loc);
}
inline unsigned __ballot_sync(unsigned mask, int pred, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  int all[32];
  int mine = pred != 0;
  coopgen::sim::warp_collective(mask, "__ballot_sync", &mine, sizeof mine, all, loc);
  unsigned bits = 0;
  for (int l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && all[l]) bits |= 1u << l;
  return bits;
}
inline int __any_sync(unsigned mask, int pred, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return __ballot_sync(mask, pred, loc) != 0;
}
inline int __all_sync(unsigned mask, int pred, const ::coopgen::sim::Loc& loc = ::coopgen::sim::Loc::current()) {
  return __ballot_sync(mask, pred, loc) == mask;
}

// Atomics (global or shared): real atomic read-modify-writes; they return the old value.
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline float atomicAdd(float* p, float v) { return coopgen::sim::atomic_rmw(p, v, 0); }
inline double atomicAdd(double* p, double v) { return coopgen::sim::atomic_rmw(p, v, 0); }
inline int atomicMax(int* p, int v) { return coopgen::sim::atomic_rmw(p, v, 1); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return coopgen::sim::atomic_rmw(p, v, 1); }
inline int atomicMin(int* p, int v) { return coopgen::sim::atomic_rmw(p, v, 2); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return coopgen::sim::atomic_rmw(p, v, 2); }
template <class T> T atomicCAS(T* p, T compare, T v) {
  static_assert(std::is_integral_v<T>, "atomicCAS on integers");
  __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
template <class T> T atomicExch(T* p, T v) {
  T old;
  __atomic_exchange(p, &v, &old, __ATOMIC_RELAXED);
  return old;
}

// Math intrinsics the host headers do not declare.
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T> T __ldg(const T* p) { return *p; }
