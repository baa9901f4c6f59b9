// Elementwise ops (math in kernels/cpu/elementwise.cpp). Memory-bound: 2–3 f32 streams per
// element, one thread per element, grid-stride. sum_rows: one thread per column walks the rows
// (coalesced across the warp, deterministic order).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/elementwise.cuh"

namespace coopgen::cuda {

namespace {

// One kernel body for every elementwise op: out[k] = f(k).
template <class F> __global__ void map_kernel(float* out, int64_t n, F f) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) out[k] = f(k);
}
template <class F> void map(const char* name, float* out, int64_t n, cudaStream_t s, F f) {
  if (n) launch(name, map_kernel<F>, grid_for(n), kBlock, 0, s, out, n, f);
}

constexpr float kGeluS = 0.7978845608028654f;  // √(2/π)
__device__ __forceinline__ float gelu(float v) { return 0.5f * v * (1.0f + tanhf(kGeluS * (v + 0.044715f * v * v * v))); }
__device__ __forceinline__ float gelu_grad(float v) {
  const float t = tanhf(kGeluS * (v + 0.044715f * v * v * v));
  return 0.5f * (1 + t) + 0.5f * v * (1 - t * t) * kGeluS * (1 + 3 * 0.044715f * v * v);
}

__global__ void sum_rows_kernel(float* out, const float* x, int64_t rows, int64_t cols) {
  for (int64_t c = global_index(); c < cols; c += grid_stride()) {
    float acc = 0;
    for (int64_t r = 0; r < rows; ++r) acc += x[r * cols + c];
    out[c] = acc;
  }
}

}  // namespace

void add(float* out, const float* a, const float* b, double alpha, int64_t n, cudaStream_t s) {
  const float al = float(alpha);
  map("add", out, n, s, [=] __device__(int64_t k) { return a[k] + al * b[k]; });
}
void mul(float* out, const float* a, const float* b, int64_t n, cudaStream_t s) {
  map("mul", out, n, s, [=] __device__(int64_t k) { return a[k] * b[k]; });
}
void scale(float* out, const float* a, double factor, int64_t n, cudaStream_t s) {
  const float f = float(factor);
  map("scale", out, n, s, [=] __device__(int64_t k) { return f * a[k]; });
}
void bias_add(float* out, const float* x, const float* bias, const float* residual, int64_t rows, int64_t cols,
              cudaStream_t s) {
  if (residual)
    map("bias_add_residual", out, rows * cols, s, [=] __device__(int64_t k) { return x[k] + bias[k % cols] + residual[k]; });
  else
    map("bias_add", out, rows * cols, s, [=] __device__(int64_t k) { return x[k] + bias[k % cols]; });
}
void sum_rows(float* out, const float* x, int64_t rows, int64_t cols, cudaStream_t s) {
  if (cols) launch("sum_rows", sum_rows_kernel, grid_for(cols), kBlock, 0, s, out, x, rows, cols);
}
void gelu_forward(float* out, const float* x, int64_t n, cudaStream_t s) {
  map("gelu_forward", out, n, s, [=] __device__(int64_t k) { return gelu(x[k]); });
}
void gelu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t s) {
  map("gelu_backward", dx, n, s, [=] __device__(int64_t k) { return dy[k] * gelu_grad(x[k]); });
}
void bias_gelu_forward(float* out, const float* x, const float* bias, int64_t rows, int64_t cols, cudaStream_t s) {
  map("bias_gelu_forward", out, rows * cols, s, [=] __device__(int64_t k) { return gelu(x[k] + bias[k % cols]); });
}
void bias_gelu_backward(float* dx, const float* x, const float* bias, const float* dy, int64_t rows, int64_t cols,
                        cudaStream_t s) {
  map("bias_gelu_backward", dx, rows * cols, s,
      [=] __device__(int64_t k) { return dy[k] * gelu_grad(x[k] + bias[k % cols]); });
}
void sigmoid_forward(float* y, const float* x, int64_t n, cudaStream_t s) {
  map("sigmoid_forward", y, n, s, [=] __device__(int64_t k) { return 1.0f / (1.0f + expf(-x[k])); });
}
void sigmoid_backward(float* dx, const float* y, const float* dy, int64_t n, cudaStream_t s) {
  map("sigmoid_backward", dx, n, s, [=] __device__(int64_t k) { return dy[k] * y[k] * (1.0f - y[k]); });
}
void tanh_forward(float* y, const float* x, int64_t n, cudaStream_t s) {
  map("tanh_forward", y, n, s, [=] __device__(int64_t k) { return tanhf(x[k]); });
}
void tanh_backward(float* dx, const float* y, const float* dy, int64_t n, cudaStream_t s) {
  map("tanh_backward", dx, n, s, [=] __device__(int64_t k) { return dy[k] * (1.0f - y[k] * y[k]); });
}

}  // namespace coopgen::cuda
