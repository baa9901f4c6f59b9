// Row softmax and its gradient: one block per row; forward reads the row twice (max, then
// exp-sum and write), backward reads y and dy twice. A row of −∞ (all keys masked) writes zeros.
// mask_fill: one thread per score, no reduction.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/softmax.cuh"

namespace coopgen::cuda {

namespace {

__global__ void softmax_forward_kernel(float* y, const float* x, int64_t cols) {
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

__global__ void softmax_backward_kernel(float* dx, const float* y, const float* dy, int64_t cols) {
  __shared__ float scratch[32];
  const int64_t base = int64_t(blockIdx.x) * cols;
  float dot = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dot += dy[base + c] * y[base + c];
  dot = block_sum(dot, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dx[base + c] = y[base + c] * (dy[base + c] - dot);
}

__global__ void mask_fill_kernel(float* out, const float* x, const float* keymask, int64_t heads, int64_t tq,
                                 int64_t tk, bool causal, float fill, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) {
    const int64_t j = k % tk, i = (k / tk) % tq, b = k / (tk * tq * heads);
    const bool masked = (keymask && keymask[b * tk + j] == 0.0f) || (causal && j > i + tk - tq);
    out[k] = masked ? fill : x[k];
  }
}

}  // namespace

void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows) launch("softmax_forward", softmax_forward_kernel, unsigned(rows), kBlock, 0, s, y, x, cols);
}
void softmax_backward(float* dx, const float* y, const float* dy, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows) launch("softmax_backward", softmax_backward_kernel, unsigned(rows), kBlock, 0, s, dx, y, dy, cols);
}
void mask_fill(float* out, const float* x, const float* keymask, int64_t batch, int64_t heads, int64_t tq,
               int64_t tk, bool causal, double fill, cudaStream_t s) {
  const int64_t n = batch * heads * tq * tk;
  if (n) launch("mask_fill", mask_fill_kernel, grid_for(n), kBlock, 0, s, out, x, keymask, heads, tq, tk, causal, float(fill), n);
}

}  // namespace coopgen::cuda
