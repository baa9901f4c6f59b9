// The emulator's own test kernels (see sim_kernels.cuh). Written as ordinary CUDA: this file
// also compiles with nvcc, so a GPU run can confirm what the emulator claims.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ptx.cuh"
#include "tests/sim/sim_kernels.cuh"

namespace coopgen::simtest {

using cuda::launch;

namespace {

__device__ unsigned lanes_of_my_warp() {
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  const unsigned linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned first = linear / 32 * 32, n = threads - first < 32 ? threads - first : 32;
  return n == 32 ? 0xffffffffu : (1u << n) - 1;
}

__global__ void write_indices_kernel(int* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[block * per_block + thread] = int(1000000 * blockIdx.z + 100000 * blockIdx.y + 10000 * blockIdx.x +
                                        100 * threadIdx.z + 10 * threadIdx.y + threadIdx.x);
}

__global__ void shuffles_kernel(int* out, int mode, int arg, int width) {
  const unsigned t = threadIdx.x, mask = lanes_of_my_warp();
  const int v = int(100 * (t / 32) + t % 32);
  int r = 0;
  switch (mode) {
    case 0: r = __shfl_sync(mask, v, arg, width); break;
    case 1: r = __shfl_xor_sync(mask, v, arg, width); break;
    case 2: r = __shfl_up_sync(mask, v, unsigned(arg), width); break;
    default: r = __shfl_down_sync(mask, v, unsigned(arg), width); break;
  }
  out[t] = r;
}

__global__ void votes_kernel(unsigned* out) {
  const unsigned t = threadIdx.x, mask = lanes_of_my_warp();
  out[3 * t + 0] = __ballot_sync(mask, t % 3 == 0);
  out[3 * t + 1] = unsigned(__any_sync(mask, t == 5));
  out[3 * t + 2] = unsigned(__all_sync(mask, t < 1000));
}

__global__ void atomics_kernel(int* out, float* fsum) {
  __shared__ int count;
  if (threadIdx.x == 0) count = 0;
  __syncthreads();
  atomicAdd(&count, 1);
  atomicAdd(&out[0], 1);
  atomicAdd(fsum, 0.5f);
  atomicMax(&out[2], int(blockIdx.x * blockDim.x + threadIdx.x));
  atomicMin(&out[3], -int(threadIdx.x));
  __syncthreads();
  if (threadIdx.x == 0) atomicAdd(&out[1], count);
}

__global__ void dynamic_shared_kernel(float* out) {
  COOPGEN_DYNAMIC_SHARED(float, buf);
  buf[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = buf[blockDim.x - 1 - threadIdx.x];
}

__global__ void async_copy_kernel(float* out, const float* in, int n, int* cas_counter) {
  __shared__ __align__(16) float tile[256];
  for (int k = int(threadIdx.x) * 4; k < n; k += int(blockDim.x) * 4) cuda::cp_async_16(&tile[k], &in[k]);
  cuda::cp_async_wait_all();
  __syncwarp(lanes_of_my_warp());  // the block has a partial warp: name only its lanes
  __syncthreads();
  for (int k = int(threadIdx.x); k < n; k += int(blockDim.x)) out[k] = tile[n - 1 - k];
  int seen = atomicAdd(cas_counter, 0), prev;  // an atomic read: a plain one would race with the CAS
  while ((prev = atomicCAS(cas_counter, seen, seen + 1)) != seen) seen = prev;
}

__global__ void read_unwritten_kernel(float* f, int* i) {
  __shared__ float sf[4];
  __shared__ int si[4];
  f[0] = sf[2];
  i[0] = si[1];
}

__global__ void block_order_kernel(int* order, int* counter) {
  if (threadIdx.x == 0) order[atomicAdd(counter, 1)] = int(blockIdx.x);
}

// One warp computes one 16×8×16 tile: lanes gather their fragments straight from global memory.
__global__ void mma_kernel(float* d, const uint16_t* a, const uint16_t* b, bool wrong_fragment) {
  const unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  uint32_t af[4], bf[2];
  for (unsigned r = 0; r < 4; ++r) {
    uint32_t reg = 0;
    for (unsigned h = 0; h < 2; ++h) {
      const unsigned i = 2 * r + h;
      unsigned row = g + 8 * (r % 2), col = 2 * t + i % 2 + 8 * (r / 2);
      if (wrong_fragment) col = 2 * t + i % 2 + 8 * (r % 2);  // the bug: row's bit used for the column
      reg |= uint32_t(a[row * 16 + col]) << (16 * h);
    }
    af[r] = reg;
  }
  for (unsigned r = 0; r < 2; ++r) {
    uint32_t reg = 0;
    for (unsigned h = 0; h < 2; ++h) reg |= uint32_t(b[(2 * t + h + 8 * r) * 8 + g]) << (16 * h);
    bf[r] = reg;
  }
  const float c[4] = {0, 0, 0, 0};
  float out[4];
  cuda::mma_m16n8k16_bf16(out, af, bf, c);
  for (unsigned i = 0; i < 4; ++i) d[(g + 8 * (i / 2)) * 8 + 2 * t + i % 2] = out[i];
}

__global__ void barrier_rounds_kernel(int rounds) {
  for (int r = 0; r < rounds; ++r) __syncthreads();
}

__global__ void read_past_end_kernel(const float* in, float* out, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = in[i] + in[i + 1];  // the bug: in[n] is read by the last thread
}

__global__ void half_barrier_kernel(float* out) {
  if (threadIdx.x < blockDim.x / 2) __syncthreads();  // the bug: half the block skips the barrier
  out[threadIdx.x] = 1.0f;
}

__global__ void split_barrier_kernel(float* out) {
  if (threadIdx.x < blockDim.x / 2) {
    out[threadIdx.x] = 1.0f;
    __syncthreads();  // the bug: the two halves wait at two different barriers
  } else {
    out[threadIdx.x] = 2.0f;
    __syncthreads();
  }
}

__global__ void missing_barrier_kernel(float* out) {
  __shared__ float s[256];
  s[threadIdx.x] = float(threadIdx.x);
  // the bug: no __syncthreads() between the write above and the read of a neighbour's word
  out[threadIdx.x] = s[(threadIdx.x + 1) % blockDim.x];
}

__global__ void shuffle_missing_lane_kernel(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);  // the bug: the last warp is partial
}

__global__ void shuffle_after_exit_kernel(int* out, int gone) {
  if (int(threadIdx.x % 32) == gone) return;  // the bug: that lane is named by the full mask below
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
}

}  // namespace

void write_indices(int* out, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz) {
  launch("write_indices", write_indices_kernel, dim3(gx, gy, gz), dim3(bx, by, bz), 0, nullptr, out);
}
void shuffles(int* out, int threads, int mode, int arg, int width) {
  launch("shuffles", shuffles_kernel, 1, unsigned(threads), 0, nullptr, out, mode, arg, width);
}
void votes(unsigned* out, int threads) { launch("votes", votes_kernel, 1, unsigned(threads), 0, nullptr, out); }
void atomics(int* out, float* fsum, int blocks, int threads) {
  launch("atomics", atomics_kernel, unsigned(blocks), unsigned(threads), 0, nullptr, out, fsum);
}
void dynamic_shared_reverse(float* out, int threads) {
  launch("dynamic_shared", dynamic_shared_kernel, 1, unsigned(threads), sizeof(float) * size_t(threads), nullptr, out);
}
void async_copy_reverse(float* out, const float* in, int n, int* cas_counter) {
  launch("async_copy", async_copy_kernel, 1, 40, 0, nullptr, out, in, n, cas_counter);
}
void read_unwritten_shared(float* f, int* i) { launch("read_unwritten", read_unwritten_kernel, 1, 1, 0, nullptr, f, i); }
void block_order(int* order, int* counter, int blocks) {
  launch("block_order", block_order_kernel, unsigned(blocks), 32, 0, nullptr, order, counter);
}
void mma_tile(float* d, const uint16_t* a, const uint16_t* b, bool wrong_fragment) {
  launch("mma_tile", mma_kernel, 1, 32, 0, nullptr, d, a, b, wrong_fragment);
}
void barrier_rounds(int threads, int rounds) {
  launch("barrier_rounds", barrier_rounds_kernel, 1, unsigned(threads), 0, nullptr, rounds);
}
void read_past_end(const float* in, float* out, int n) {
  launch("read_past_end", read_past_end_kernel, unsigned((n + 63) / 64), 64, 0, nullptr, in, out, n);
}
void half_barrier(float* out, int threads) {
  launch("half_barrier", half_barrier_kernel, 1, unsigned(threads), 0, nullptr, out);
}
void split_barrier(float* out, int threads) {
  launch("split_barrier", split_barrier_kernel, 1, unsigned(threads), 0, nullptr, out);
}
void missing_barrier(float* out, int threads) {
  launch("missing_barrier", missing_barrier_kernel, 1, unsigned(threads), 0, nullptr, out);
}
void shuffle_missing_lane(int* out, int threads) {
  launch("shuffle_missing_lane", shuffle_missing_lane_kernel, 1, unsigned(threads), 0, nullptr, out);
}
void shuffle_after_exit(int* out, int threads, int gone) {
  launch("shuffle_after_exit", shuffle_after_exit_kernel, 1, unsigned(threads), 0, nullptr, out, gone);
}

}  // namespace coopgen::simtest
