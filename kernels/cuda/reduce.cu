// Masked pooling over time: one thread per (b, c) walks t (coalesced over c). Whole-tensor sums:
// one block of 1024 threads, a strided pass and a block reduction — a fixed summation order, so
// the same input gives the same bits run after run (gradient norms, losses).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/reduce.cuh"

namespace coopgen::cuda {

namespace {

__device__ float pool_scale(const float* m, int64_t b, int64_t time, bool mean) {
  if (!mean) return 1.0f;
  float count = 0;
  for (int64_t t = 0; t < time; ++t) count += m[b * time + t];
  return count > 0 ? 1.0f / count : 0.0f;
}

__global__ void masked_pool_kernel(float* out, const float* x, const float* m, int64_t batch, int64_t time,
                                   int64_t cols, bool mean) {
  for (int64_t k = global_index(); k < batch * cols; k += grid_stride()) {
    const int64_t b = k / cols, c = k % cols;
    float acc = 0;
    for (int64_t t = 0; t < time; ++t) acc += m[b * time + t] * x[(b * time + t) * cols + c];
    out[k] = pool_scale(m, b, time, mean) * acc;
  }
}

__global__ void masked_pool_backward_kernel(float* dx, const float* dout, const float* m, int64_t batch,
                                            int64_t time, int64_t cols, bool mean) {
  for (int64_t k = global_index(); k < batch * time * cols; k += grid_stride()) {
    const int64_t c = k % cols, bt = k / cols, b = bt / time;
    dx[k] = pool_scale(m, b, time, mean) * m[bt] * dout[b * cols + c];
  }
}

template <bool kSquare> __global__ void sum_kernel(float* out, const float* x, int64_t n) {
  __shared__ float scratch[32];
  float acc = 0;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) acc += kSquare ? x[k] * x[k] : x[k];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) out[0] = acc;
}

}  // namespace

void masked_pool(float* out, const float* x, const float* m, int64_t batch, int64_t time, int64_t cols,
                 bool mean, cudaStream_t s) {
  if (batch > 0 && cols > 0) launch("masked_pool", masked_pool_kernel, grid_for(batch * cols), kBlock, 0, s, out, x, m, batch, time, cols, mean);
}
void masked_pool_backward(float* dx, const float* dout, const float* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean, cudaStream_t s) {
  const int64_t n = batch * time * cols;
  if (n) launch("masked_pool_backward", masked_pool_backward_kernel, grid_for(n), kBlock, 0, s, dx, dout, m, batch, time, cols, mean);
}
void sum_all(float* out, const float* x, int64_t n, cudaStream_t s) {
  launch("sum_all", sum_kernel<false>, 1, 1024, 0, s, out, x, n);
}
void sum_squares(float* out, const float* x, int64_t n, cudaStream_t s) {
  launch("sum_squares", sum_kernel<true>, 1, 1024, 0, s, out, x, n);
}

}  // namespace coopgen::cuda
