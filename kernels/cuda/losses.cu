// Losses (math in kernels/cpu/losses.h). weighted_logprob: one block per row computes the
// log-sum-exp (max pass, exp-sum pass: reads V floats twice), saves it, and writes the row's term;
// a one-block reduction sums the rows in a fixed order. The N×V logits are an input here; the
// fused kernel that never materialises them comes with the performance work.
// Backward: one block per row writes dloss·c_n·(softmax − onehot), reading the row once.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/losses.cuh"
#include "kernels/cuda/reduce.cuh"

namespace coopgen::cuda {

namespace {

__global__ void logprob_rows_kernel(float* row_loss, float* lse, const float* logits, const int32_t* y,
                                    const float* m, const float* w, int64_t time, int64_t vocab) {
  __shared__ float scratch[32];
  const int64_t n = blockIdx.x;
  const float* z = logits + n * vocab;
  float mx = -INFINITY;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) mx = fmaxf(mx, z[v]);
  mx = block_max(mx, scratch);
  float s = 0;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) s += expf(z[v] - mx);
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    const float l = mx + logf(s);
    const float c = w[n / time] * m[n];
    lse[n] = l;
    row_loss[n] = c != 0.0f ? -c * (z[y[n]] - l) : 0.0f;
  }
}

__global__ void logprob_backward_kernel(float* dlogits, const float* logits, const float* lse, const int32_t* y,
                                        const float* m, const float* w, const float* dloss, int64_t time, int64_t vocab) {
  const int64_t n = blockIdx.x;
  const float c = dloss[0] * w[n / time] * m[n], l = lse[n];
  const int32_t target = y[n];
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x)
    dlogits[n * vocab + v] = c * (expf(logits[n * vocab + v] - l) - (v == target ? 1.0f : 0.0f));
}

__global__ void bce_terms_kernel(float* terms, const float* x, const float* t, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) {
    const float v = x[k];
    terms[k] = (fmaxf(v, 0.0f) - v * t[k] + log1pf(expf(-fabsf(v)))) / float(n);
  }
}

__global__ void bce_backward_kernel(float* dx, const float* x, const float* t, const float* dloss, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride())
    dx[k] = dloss[0] * (1.0f / (1.0f + expf(-x[k])) - t[k]) / float(n);
}

}  // namespace

void weighted_logprob_forward(float* loss, float* lse, float* row_loss, const float* logits, const int32_t* y,
                              const float* m, const float* w, int64_t rows, int64_t time, int64_t vocab, cudaStream_t s) {
  if (rows) launch("weighted_logprob_rows", logprob_rows_kernel, unsigned(rows), kBlock, 0, s, row_loss, lse, logits, y, m, w, time, vocab);
  sum_all(loss, row_loss, rows, s);
}

void weighted_logprob_backward(float* dlogits, const float* logits, const float* lse, const int32_t* y,
                               const float* m, const float* w, const float* dloss, int64_t rows, int64_t time,
                               int64_t vocab, cudaStream_t s) {
  if (rows) launch("weighted_logprob_backward", logprob_backward_kernel, unsigned(rows), kBlock, 0, s, dlogits, logits, lse, y, m, w, dloss, time, vocab);
}

void bce_with_logits_forward(float* loss, float* scratch, const float* x, const float* t, int64_t n, cudaStream_t s) {
  if (n) launch("bce_terms", bce_terms_kernel, grid_for(n), kBlock, 0, s, scratch, x, t, n);
  sum_all(loss, scratch, n, s);
}

void bce_with_logits_backward(float* dx, const float* x, const float* t, const float* dloss, int64_t n, cudaStream_t s) {
  if (n) launch("bce_with_logits_backward", bce_backward_kernel, grid_for(n), kBlock, 0, s, dx, x, t, dloss, n);
}

}  // namespace coopgen::cuda
