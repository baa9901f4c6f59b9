// Elementwise ops (math in kernels/cpu/elementwise.cpp), f32 or bf16 storage (T), f32 arithmetic.
// Memory-bound: 2–3 streams per element, one thread per element, grid-stride. sum_rows: one thread per column walks the rows
// (coalesced across the warp, deterministic order).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/elementwise.cuh"

namespace coopgen::cuda {

namespace {

// One kernel body for every elementwise op: out[k] = f(k), rounded to the storage type.
template <class T, class F> __global__ void __launch_bounds__(kBlock) map_kernel(T* out, int64_t n, F f) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) out[k] = from_f32<T>(f(k));
}
template <class T, class F> void map(const char* name, T* out, int64_t n, cudaStream_t s, F f) {
  if (n) launch(name, map_kernel<T, F>, grid_for(n), kBlock, 0, s, out, n, f);
}

constexpr float kGeluS = 0.7978845608028654f;  // √(2/π)
__device__ __forceinline__ float gelu(float v) { return 0.5f * v * (1.0f + tanhf(kGeluS * (v + 0.044715f * v * v * v))); }
__device__ __forceinline__ float gelu_grad(float v) {
  const float t = tanhf(kGeluS * (v + 0.044715f * v * v * v));
  return 0.5f * (1 + t) + 0.5f * v * (1 - t * t) * kGeluS * (1 + 3 * 0.044715f * v * v);
}

template <class T> __global__ void __launch_bounds__(kBlock)
    sum_rows_kernel(T* out, const T* x, int64_t rows, int64_t cols) {
  for (int64_t c = global_index(); c < cols; c += grid_stride()) {
    float acc = 0;
    for (int64_t r = 0; r < rows; ++r) acc += to_f32(x[r * cols + c]);
    out[c] = from_f32<T>(acc);
  }
}

}  // namespace

template <class T> void add(T* out, const T* a, const T* b, double alpha, int64_t n, cudaStream_t s) {
  const float al = float(alpha);
  map("add", out, n, s, [=] __device__(int64_t k) { return to_f32(a[k]) + al * to_f32(b[k]); });
}
template <class T> void mul(T* out, const T* a, const T* b, int64_t n, cudaStream_t s) {
  map("mul", out, n, s, [=] __device__(int64_t k) { return to_f32(a[k]) * to_f32(b[k]); });
}
template <class T> void scale(T* out, const T* a, double factor, int64_t n, cudaStream_t s) {
  const float f = float(factor);
  map("scale", out, n, s, [=] __device__(int64_t k) { return f * to_f32(a[k]); });
}
template <class T>
void bias_add(T* out, const T* x, const T* bias, const T* residual, int64_t rows, int64_t cols, cudaStream_t s) {
  if (residual)
    map("bias_add_residual", out, rows * cols, s,
        [=] __device__(int64_t k) { return to_f32(x[k]) + to_f32(bias[k % cols]) + to_f32(residual[k]); });
  else
    map("bias_add", out, rows * cols, s, [=] __device__(int64_t k) { return to_f32(x[k]) + to_f32(bias[k % cols]); });
}
template <class T> void sum_rows(T* out, const T* x, int64_t rows, int64_t cols, cudaStream_t s) {
  if (cols) launch("sum_rows", sum_rows_kernel<T>, grid_for(cols), kBlock, 0, s, out, x, rows, cols);
}
template <class T> void gelu_forward(T* out, const T* x, int64_t n, cudaStream_t s) {
  map("gelu_forward", out, n, s, [=] __device__(int64_t k) { return gelu(to_f32(x[k])); });
}
template <class T> void gelu_backward(T* dx, const T* x, const T* dy, int64_t n, cudaStream_t s) {
  map("gelu_backward", dx, n, s, [=] __device__(int64_t k) { return to_f32(dy[k]) * gelu_grad(to_f32(x[k])); });
}
template <class T> void bias_gelu_forward(T* out, const T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t s) {
  map("bias_gelu_forward", out, rows * cols, s,
      [=] __device__(int64_t k) { return gelu(to_f32(x[k]) + to_f32(bias[k % cols])); });
}
template <class T>
void bias_gelu_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols, cudaStream_t s) {
  map("bias_gelu_backward", dx, rows * cols, s,
      [=] __device__(int64_t k) { return to_f32(dy[k]) * gelu_grad(to_f32(x[k]) + to_f32(bias[k % cols])); });
}
template <class T> void sigmoid_forward(T* y, const T* x, int64_t n, cudaStream_t s) {
  map("sigmoid_forward", y, n, s, [=] __device__(int64_t k) { return 1.0f / (1.0f + expf(-to_f32(x[k]))); });
}
template <class T> void sigmoid_backward(T* dx, const T* y, const T* dy, int64_t n, cudaStream_t s) {
  map("sigmoid_backward", dx, n, s, [=] __device__(int64_t k) {
    const float yk = to_f32(y[k]);
    return to_f32(dy[k]) * yk * (1.0f - yk);
  });
}
template <class T> void tanh_forward(T* y, const T* x, int64_t n, cudaStream_t s) {
  map("tanh_forward", y, n, s, [=] __device__(int64_t k) { return tanhf(to_f32(x[k])); });
}
template <class T> void tanh_backward(T* dx, const T* y, const T* dy, int64_t n, cudaStream_t s) {
  map("tanh_backward", dx, n, s, [=] __device__(int64_t k) {
    const float yk = to_f32(y[k]);
    return to_f32(dy[k]) * (1.0f - yk * yk);
  });
}

#define COOPGEN_INSTANTIATE(T)                                                                        \
  template void add<T>(T*, const T*, const T*, double, int64_t, cudaStream_t);                        \
  template void mul<T>(T*, const T*, const T*, int64_t, cudaStream_t);                                \
  template void scale<T>(T*, const T*, double, int64_t, cudaStream_t);                                \
  template void bias_add<T>(T*, const T*, const T*, const T*, int64_t, int64_t, cudaStream_t);        \
  template void sum_rows<T>(T*, const T*, int64_t, int64_t, cudaStream_t);                            \
  template void gelu_forward<T>(T*, const T*, int64_t, cudaStream_t);                                 \
  template void gelu_backward<T>(T*, const T*, const T*, int64_t, cudaStream_t);                      \
  template void bias_gelu_forward<T>(T*, const T*, const T*, int64_t, int64_t, cudaStream_t);         \
  template void bias_gelu_backward<T>(T*, const T*, const T*, const T*, int64_t, int64_t, cudaStream_t); \
  template void sigmoid_forward<T>(T*, const T*, int64_t, cudaStream_t);                              \
  template void sigmoid_backward<T>(T*, const T*, const T*, int64_t, cudaStream_t);                   \
  template void tanh_forward<T>(T*, const T*, int64_t, cudaStream_t);                                 \
  template void tanh_backward<T>(T*, const T*, const T*, int64_t, cudaStream_t);
COOPGEN_INSTANTIATE(float)
COOPGEN_INSTANTIATE(bf16_t)
#undef COOPGEN_INSTANTIATE

}  // namespace coopgen::cuda
