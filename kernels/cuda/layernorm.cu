// LayerNorm (math in kernels/cpu/layernorm.h), f32 or bf16 storage (T); mean and rstd in f32.
// Forward and dx: one warp per row, kRowsPerBlock rows per block (as llm.c's layernorm kernels): a
// row's reductions are register shuffles within its warp, with no shared memory or block barrier,
// and a row of C elements gives each lane C/32 of them (24 at GPT-2's 768). Forward: mean, then
// variance about the mean (more accurate than E[x²]−μ²); three passes over x (the last two from
// cache), writes y. dx: two reductions, mean(dy·g) and mean(dy·g·x̂). dg and db by a second
// kernel, one thread per column walking the rows, so no atomics and a fixed order.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/layernorm.cuh"

namespace coopgen::cuda {

namespace {

constexpr int kRowsPerBlock = kBlock / 32;
static_assert(kBlock % 32 == 0, "whole warps: a row's warp leaves or stays together");

template <class T>
__global__ void __launch_bounds__(kBlock)
    layernorm_forward_kernel(T* y, float* mean, float* rstd, const T* x, const T* g, const T* b,
                             int64_t rows, int64_t cols, float eps) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp: no lane is left out of its shuffles
  const int lane = int(threadIdx.x % 32);
  const T* xr = x + row * cols;
  float s = 0;
  for (int64_t c = lane; c < cols; c += 32) s += to_f32(xr[c]);
  const float m = warp_sum(s) / float(cols);
  float v = 0;
  for (int64_t c = lane; c < cols; c += 32) v += (to_f32(xr[c]) - m) * (to_f32(xr[c]) - m);
  const float r = rsqrtf(warp_sum(v) / float(cols) + eps);
  for (int64_t c = lane; c < cols; c += 32)
    y[row * cols + c] = from_f32<T>((to_f32(xr[c]) - m) * r * to_f32(g[c]) + to_f32(b[c]));
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    layernorm_backward_dx_kernel(T* dx, const T* dy, const T* x, const T* g, const float* mean,
                                 const float* rstd, int64_t rows, int64_t cols) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;
  const int lane = int(threadIdx.x % 32);
  const float m = mean[row], r = rstd[row];
  const T* xr = x + row * cols;
  const T* dyr = dy + row * cols;
  float a = 0, bsum = 0;
  for (int64_t c = lane; c < cols; c += 32) {
    const float dyg = to_f32(dyr[c]) * to_f32(g[c]);
    a += dyg;
    bsum += dyg * (to_f32(xr[c]) - m) * r;
  }
  const float mean_dyg = warp_sum(a) / float(cols);
  const float mean_dyg_xh = warp_sum(bsum) / float(cols);
  for (int64_t c = lane; c < cols; c += 32)
    dx[row * cols + c] =
        from_f32<T>(r * (to_f32(dyr[c]) * to_f32(g[c]) - mean_dyg - (to_f32(xr[c]) - m) * r * mean_dyg_xh));
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    layernorm_backward_params_kernel(T* dg, T* db, const T* dy, const T* x, const float* mean,
                                     const float* rstd, int64_t rows, int64_t cols) {
  for (int64_t c = global_index(); c < cols; c += grid_stride()) {
    float sg = 0, sb = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float d = to_f32(dy[r * cols + c]);
      sg += d * (to_f32(x[r * cols + c]) - mean[r]) * rstd[r];
      sb += d;
    }
    dg[c] = from_f32<T>(sg);
    db[c] = from_f32<T>(sb);
  }
}

}  // namespace

template <class T>
void layernorm_forward(T* y, float* mean, float* rstd, const T* x, const T* g, const T* b, int64_t rows, int64_t cols,
                       double eps, cudaStream_t s) {
  if (rows)
    launch("layernorm_forward", layernorm_forward_kernel<T>, grid_for(rows, kRowsPerBlock, INT32_MAX), kBlock, 0, s, y,
           mean, rstd, x, g, b, rows, cols, float(eps));
}

template <class T>
void layernorm_backward(T* dx, T* dg, T* db, const T* dy, const T* x, const T* g, const float* mean, const float* rstd,
                        int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows)
    launch("layernorm_backward_dx", layernorm_backward_dx_kernel<T>, grid_for(rows, kRowsPerBlock, INT32_MAX), kBlock, 0,
           s, dx, dy, x, g, mean, rstd, rows, cols);
  launch("layernorm_backward_params", layernorm_backward_params_kernel<T>, grid_for(cols), kBlock, 0, s, dg, db, dy, x,
         mean, rstd, rows, cols);
}

#define COOPGEN_INSTANTIATE(T)                                                                                 \
  template void layernorm_forward<T>(T*, float*, float*, const T*, const T*, const T*, int64_t, int64_t, double, \
                                     cudaStream_t);                                                           \
  template void layernorm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const float*, const float*,     \
                                      int64_t, int64_t, cudaStream_t);
COOPGEN_INSTANTIATE(float)
COOPGEN_INSTANTIATE(bf16_t)
#undef COOPGEN_INSTANTIATE

}  // namespace coopgen::cuda
