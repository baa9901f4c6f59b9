// LayerNorm (math in kernels/cpu/layernorm.h). Forward: one block per row, two block reductions
// (mean, then variance about the mean — more accurate than E[x²]−μ²); reads x twice, writes y.
// Backward: one block per row for dx (two reductions: mean(dy·g), mean(dy·g·x̂)); dg and db by a
// second kernel, one thread per column walking the rows, so no atomics and a fixed order.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/layernorm.cuh"

namespace coopgen::cuda {

namespace {

__global__ void layernorm_forward_kernel(float* y, float* mean, float* rstd, const float* x, const float* g,
                                         const float* b, int64_t cols, float eps) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * cols;
  float s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
  const float m = block_sum(s, scratch) / float(cols);
  float v = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) v += (xr[c] - m) * (xr[c] - m);
  const float r = rsqrtf(block_sum(v, scratch) / float(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) y[row * cols + c] = (xr[c] - m) * r * g[c] + b[c];
  if (threadIdx.x == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}

__global__ void layernorm_backward_dx_kernel(float* dx, const float* dy, const float* x, const float* g,
                                             const float* mean, const float* rstd, int64_t cols) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float m = mean[row], r = rstd[row];
  const float* xr = x + row * cols;
  const float* dyr = dy + row * cols;
  float a = 0, bsum = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float dyg = dyr[c] * g[c];
    a += dyg;
    bsum += dyg * (xr[c] - m) * r;
  }
  const float mean_dyg = block_sum(a, scratch) / float(cols);
  const float mean_dyg_xh = block_sum(bsum, scratch) / float(cols);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    dx[row * cols + c] = r * (dyr[c] * g[c] - mean_dyg - (xr[c] - m) * r * mean_dyg_xh);
}

__global__ void layernorm_backward_params_kernel(float* dg, float* db, const float* dy, const float* x,
                                                 const float* mean, const float* rstd, int64_t rows, int64_t cols) {
  for (int64_t c = global_index(); c < cols; c += grid_stride()) {
    float sg = 0, sb = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float d = dy[r * cols + c];
      sg += d * (x[r * cols + c] - mean[r]) * rstd[r];
      sb += d;
    }
    dg[c] = sg;
    db[c] = sb;
  }
}

}  // namespace

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* g, const float* b,
                       int64_t rows, int64_t cols, double eps, cudaStream_t s) {
  if (rows) launch("layernorm_forward", layernorm_forward_kernel, unsigned(rows), kBlock, 0, s, y, mean, rstd, x, g, b, cols, float(eps));
}

void layernorm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* g,
                        const float* mean, const float* rstd, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows) launch("layernorm_backward_dx", layernorm_backward_dx_kernel, unsigned(rows), kBlock, 0, s, dx, dy, x, g, mean, rstd, cols);
  launch("layernorm_backward_params", layernorm_backward_params_kernel, grid_for(cols), kBlock, 0, s, dg, db, dy, x, mean, rstd, rows, cols);
}

}  // namespace coopgen::cuda
