// Masked pooling over time and its gradient: one thread per (b, c) walks t (coalesced over c), so
// each is linear in B·T·C. Whole-tensor sums: grid-wide in two passes — up to kSumBlocks blocks of
// 1024 threads each reduce a fixed strided share into one partial, then one block sums the
// partials — a summation order fixed by n alone, so the same input gives the same bits run after
// run (gradient norms, losses); small inputs (or no workspace) take the second pass alone.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/reduce.cuh"

#include <algorithm>

namespace coopgen::cuda {

namespace {

__device__ float pool_scale(const float* m, int64_t b, int64_t time, bool mean) {
  if (!mean) return 1.0f;
  float count = 0;
  for (int64_t t = 0; t < time; ++t) count += m[b * time + t];
  return count > 0 ? 1.0f / count : 0.0f;
}

__global__ void __launch_bounds__(kBlock)
    masked_pool_kernel(float* out, const float* x, const float* m, int64_t batch, int64_t time,
                       int64_t cols, bool mean) {
  for (int64_t k = global_index(); k < batch * cols; k += grid_stride()) {
    const int64_t b = k / cols, c = k % cols;
    float acc = 0;
    for (int64_t t = 0; t < time; ++t) acc += m[b * time + t] * x[(b * time + t) * cols + c];
    out[k] = pool_scale(m, b, time, mean) * acc;
  }
}

__global__ void __launch_bounds__(kBlock)
    masked_pool_backward_kernel(float* dx, const float* dout, const float* m, int64_t batch,
                                int64_t time, int64_t cols, bool mean) {
  for (int64_t k = global_index(); k < batch * cols; k += grid_stride()) {
    const int64_t b = k / cols, c = k % cols;
    const float g = pool_scale(m, b, time, mean) * dout[k];
    for (int64_t t = 0; t < time; ++t) dx[(b * time + t) * cols + c] = m[b * time + t] * g;
  }
}

constexpr int kSumThreads = 1024, kSumBlocks = 1024;  // partials fit one block of the second pass
constexpr int64_t kSumPerBlock = int64_t(kSumThreads) * 16;  // elements a first-pass block takes at least

// Block blockIdx.x of gridDim.x sums (the squares of) x[k] for k ≡ its threads' offsets modulo the grid's size.
template <bool kSquare> __global__ void __launch_bounds__(kSumThreads)
    sum_kernel(float* out, const float* x, int64_t n) {
  __shared__ float scratch[32];
  float acc = 0;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x)
    acc += kSquare ? x[k] * x[k] : x[k];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

template <bool kSquare> void sum(const char* name, float* out, float* partials, const float* x, int64_t n, cudaStream_t s) {
  const int64_t blocks = partials ? sum_partials(n) : 0;
  if (blocks < 2) return launch(name, sum_kernel<kSquare>, 1, kSumThreads, 0, s, out, x, n);
  launch(name, sum_kernel<kSquare>, unsigned(blocks), kSumThreads, 0, s, partials, x, n);
  launch("sum_partials", sum_kernel<false>, 1, kSumThreads, 0, s, out, (const float*)partials, blocks);
}

}  // namespace

int64_t sum_partials(int64_t n) {
  const int64_t blocks = std::min<int64_t>((n + kSumPerBlock - 1) / kSumPerBlock, kSumBlocks);
  return blocks < 2 ? 0 : blocks;
}

void masked_pool(float* out, const float* x, const float* m, int64_t batch, int64_t time, int64_t cols,
                 bool mean, cudaStream_t s) {
  if (batch > 0 && cols > 0) launch("masked_pool", masked_pool_kernel, grid_for(batch * cols), kBlock, 0, s, out, x, m, batch, time, cols, mean);
}
void masked_pool_backward(float* dx, const float* dout, const float* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean, cudaStream_t s) {
  if (batch > 0 && cols > 0)
    launch("masked_pool_backward", masked_pool_backward_kernel, grid_for(batch * cols), kBlock, 0, s, dx, dout, m, batch,
           time, cols, mean);
}
void sum_all(float* out, float* partials, const float* x, int64_t n, cudaStream_t s) {
  sum<false>("sum_all", out, partials, x, n, s);
}
void sum_squares(float* out, float* partials, const float* x, int64_t n, cudaStream_t s) {
  sum<true>("sum_squares", out, partials, x, n, s);
}

}  // namespace coopgen::cuda
