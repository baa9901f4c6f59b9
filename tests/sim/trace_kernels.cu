// The access trace's known-answer kernels (see trace_kernels.cuh). Ordinary CUDA: this file also
// compiles with nvcc, so Nsight Compute on a GPU can confirm the same figures.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ptx.cuh"
#include "tests/sim/trace_kernels.cuh"

namespace coopgen::simtest {

using cuda::launch;

namespace {

__global__ void copy_kernel(float* out, const float* in) {
  for (unsigned k = 0; k < 4; ++k) out[32 * k + threadIdx.x] = in[32 * k + threadIdx.x];
}

__global__ void strided_kernel(float* out, const float* in) { out[threadIdx.x] = in[32 * threadIdx.x]; }

__global__ void broadcast_kernel(float* out, const float* in) { out[threadIdx.x] = in[0]; }

__global__ void float4_kernel(float4* out, const float4* in) {
  const float4 v = in[threadIdx.x];
  out[threadIdx.x] = make_float4(2 * v.x, 2 * v.y, 2 * v.z, 2 * v.w);
}

template <int Columns> __global__ void transpose_kernel(float* out, const float* in) {
  __shared__ float tile[32][Columns];
  tile[threadIdx.y][threadIdx.x] = in[32 * threadIdx.y + threadIdx.x];
  __syncthreads();
  out[32 * threadIdx.y + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

__global__ void ldmatrix_kernel(uint32_t* out, const uint16_t* in, bool swizzled) {
  __shared__ __align__(16) uint16_t tile[32][64];
  for (unsigned k = threadIdx.x; k < 32 * 64; k += 32) tile[k / 64][k % 64] = in[k];
  __syncwarp();
  const unsigned row = threadIdx.x;  // lane l: row l % 8 of matrix l / 8 = tile row l
  uint32_t r[4];
  cuda::ldmatrix_x4(r, &tile[row][swizzled ? 8 * (row % 8) : 0]);
  for (unsigned m = 0; m < 4; ++m) out[4 * threadIdx.x + m] = r[m];
}

__global__ void half_warp_kernel(float* out, const float* in) {
  if (threadIdx.x % 2 == 0) out[threadIdx.x] = in[threadIdx.x];
}

}  // namespace

void trace_copy(float* out, const float* in) { launch("trace_copy", copy_kernel, 1, 32, 0, nullptr, out, in); }
void trace_strided(float* out, const float* in) { launch("trace_strided", strided_kernel, 1, 32, 0, nullptr, out, in); }
void trace_broadcast(float* out, const float* in) { launch("trace_broadcast", broadcast_kernel, 1, 32, 0, nullptr, out, in); }
void trace_float4(float* out, const float* in) {
  launch("trace_float4", float4_kernel, 1, 32, 0, nullptr, reinterpret_cast<float4*>(out), reinterpret_cast<const float4*>(in));
}
void trace_transpose(float* out, const float* in, bool padded) {
  if (padded) launch("trace_transpose_padded", transpose_kernel<33>, 1, dim3(32, 32), 0, nullptr, out, in);
  else launch("trace_transpose", transpose_kernel<32>, 1, dim3(32, 32), 0, nullptr, out, in);
}
void trace_ldmatrix(uint32_t* out, const uint16_t* in, bool swizzled) {
  launch("trace_ldmatrix", ldmatrix_kernel, 1, 32, 0, nullptr, out, in, swizzled);
}
void trace_half_warp(float* out, const float* in) { launch("trace_half_warp", half_warp_kernel, 1, 32, 0, nullptr, out, in); }

}  // namespace coopgen::simtest
