// Losses (math in kernels/cpu/losses.h); the logits chunks z (and dz) in f32 or bf16 storage (T),
// every per-row state and the loss in f32. logsumexp_chunk: one block per row of a vocabulary
// chunk [N,C] reads it twice (max pass, exp-sum pass) and folds it into the row's running
// (mx, s): 8·C bytes per row plus 12 of state. weighted_logprob: per-row terms, then a one-block
// reduction in a fixed order. Backward: one block per row writes dloss·c_n·(softmax − onehot) for
// the chunk, reading and writing it once (in place when dz = z). The fused output layer
// (engine/ops.cpp weighted_logprob_linear) feeds these chunk by chunk from cuBLAS products.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/losses.cuh"
#include "kernels/cuda/reduce.cuh"

namespace coopgen::cuda {

namespace {

template <class T>
__global__ void __launch_bounds__(kBlock)
    logsumexp_chunk_kernel(float* mx, float* s, float* zy, const T* z, const int32_t* y, int64_t cols,
                           int64_t v0) {
  __shared__ float scratch[32];
  const int64_t n = blockIdx.x;
  const T* zr = z + n * cols;
  float top = -INFINITY;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) top = fmaxf(top, to_f32(zr[j]));
  top = fmaxf(block_max(top, scratch), mx[n]);
  float acc = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) acc += expf(to_f32(zr[j]) - top);
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) {
    s[n] = (s[n] == 0.0f ? 0.0f : s[n] * expf(mx[n] - top)) + acc;
    mx[n] = top;
    if (y[n] >= v0 && y[n] < v0 + cols) zy[n] = to_f32(zr[y[n] - v0]);
  }
}

__global__ void __launch_bounds__(kBlock)
    logprob_rows_kernel(float* row_loss, float* lse, const float* mx, const float* s, const float* zy,
                        const float* m, const float* w, int64_t rows, int64_t time) {
  for (int64_t n = global_index(); n < rows; n += grid_stride()) {
    const float l = mx[n] + logf(s[n]), c = w[n / time] * m[n];
    lse[n] = l;
    row_loss[n] = c != 0.0f ? -c * (zy[n] - l) : 0.0f;
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    logprob_backward_kernel(T* dz, const T* z, const float* lse, const int32_t* y, const float* m,
                            const float* w, const float* dloss, int64_t cols, int64_t time, int64_t v0) {
  const int64_t n = blockIdx.x;
  const float c = dloss[0] * w[n / time] * m[n], l = lse[n];
  const int64_t target = y[n] - v0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
    dz[n * cols + j] = from_f32<T>(c * (expf(to_f32(z[n * cols + j]) - l) - (j == target ? 1.0f : 0.0f)));
}

__global__ void __launch_bounds__(kBlock) bce_terms_kernel(float* terms, const float* x, const float* t, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) {
    const float v = x[k];
    terms[k] = (fmaxf(v, 0.0f) - v * t[k] + log1pf(expf(-fabsf(v)))) / float(n);
  }
}

__global__ void __launch_bounds__(kBlock)
    bce_backward_kernel(float* dx, const float* x, const float* t, const float* dloss, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride())
    dx[k] = dloss[0] * (1.0f / (1.0f + expf(-x[k])) - t[k]) / float(n);
}

}  // namespace

template <class T>
void logsumexp_chunk(float* mx, float* s, float* zy, const T* z, const int32_t* y, int64_t rows, int64_t cols,
                     int64_t v0, cudaStream_t st) {
  if (rows) launch("logsumexp_chunk", logsumexp_chunk_kernel<T>, unsigned(rows), kBlock, 0, st, mx, s, zy, z, y, cols, v0);
}
template void logsumexp_chunk<float>(float*, float*, float*, const float*, const int32_t*, int64_t, int64_t, int64_t,
                                     cudaStream_t);
template void logsumexp_chunk<bf16_t>(float*, float*, float*, const bf16_t*, const int32_t*, int64_t, int64_t, int64_t,
                                      cudaStream_t);

void weighted_logprob(float* loss, float* lse, float* row_loss, const float* mx, const float* s, const float* zy,
                      const float* m, const float* w, int64_t rows, int64_t time, cudaStream_t st) {
  if (rows) launch("weighted_logprob_rows", logprob_rows_kernel, grid_for(rows), kBlock, 0, st, row_loss, lse, mx, s, zy, m, w, rows, time);
  sum_all(loss, nullptr, row_loss, rows, st);  // rows: one block
}

template <class T>
void weighted_logprob_backward(T* dz, const T* z, const float* lse, const int32_t* y, const float* m, const float* w,
                               const float* dloss, int64_t rows, int64_t cols, int64_t time, int64_t v0, cudaStream_t st) {
  if (rows)
    launch("weighted_logprob_backward", logprob_backward_kernel<T>, unsigned(rows), kBlock, 0, st, dz, z, lse, y, m, w,
           dloss, cols, time, v0);
}
template void weighted_logprob_backward<float>(float*, const float*, const float*, const int32_t*, const float*,
                                               const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                                               cudaStream_t);
template void weighted_logprob_backward<bf16_t>(bf16_t*, const bf16_t*, const float*, const int32_t*, const float*,
                                                const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                                                cudaStream_t);

void bce_with_logits_forward(float* loss, float* scratch, const float* x, const float* t, int64_t n, cudaStream_t s) {
  if (n) launch("bce_terms", bce_terms_kernel, grid_for(n), kBlock, 0, s, scratch, x, t, n);
  sum_all(loss, nullptr, scratch, n, s);
}

void bce_with_logits_backward(float* dx, const float* x, const float* t, const float* dloss, int64_t n, cudaStream_t s) {
  if (n) launch("bce_with_logits_backward", bce_backward_kernel, grid_for(n), kBlock, 0, s, dx, x, t, dloss, n);
}

}  // namespace coopgen::cuda
