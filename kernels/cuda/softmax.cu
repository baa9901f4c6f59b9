// Row softmax and its gradient: one block per row; forward reads the row twice (max, then
// exp-sum and write), backward reads y and dy twice. A row of −∞ (all keys masked) writes zeros.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/softmax.cuh"

namespace coopgen::cuda {

namespace {

__global__ void __launch_bounds__(kBlock) softmax_forward_kernel(float* y, const float* x, int64_t cols) {
  __shared__ float scratch[32];
  const float* xr = x + int64_t(blockIdx.x) * cols;
  float* yr = y + int64_t(blockIdx.x) * cols;
  float mx = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) mx = fmaxf(mx, xr[c]);
  mx = block_max(mx, scratch);
  if (mx == -INFINITY) {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = 0.0f;
    return;
  }
  float sum = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(xr[c] - mx);
  const float inv = 1.0f / block_sum(sum, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = expf(xr[c] - mx) * inv;
}

__global__ void __launch_bounds__(kBlock)
    softmax_backward_kernel(float* dx, const float* y, const float* dy, int64_t cols) {
  __shared__ float scratch[32];
  const int64_t base = int64_t(blockIdx.x) * cols;
  float dot = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dot += dy[base + c] * y[base + c];
  dot = block_sum(dot, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dx[base + c] = y[base + c] * (dy[base + c] - dot);
}

}  // namespace

void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows) launch("softmax_forward", softmax_forward_kernel, unsigned(rows), kBlock, 0, s, y, x, cols);
}
void softmax_backward(float* dx, const float* y, const float* dy, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows) launch("softmax_backward", softmax_backward_kernel, unsigned(rows), kBlock, 0, s, dx, y, dy, cols);
}
}  // namespace coopgen::cuda
