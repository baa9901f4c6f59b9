#include "kernels/cpu/elementwise.h"

#include <cmath>

#include "kernels/cpu/vecmath.h"

namespace coopgen::cpu {

template <class T> void add(T* out, const T* a, const T* b, double alpha, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = T(double(a[k]) + alpha * double(b[k]));
}
template <class T> void mul(T* out, const T* a, const T* b, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = a[k] * b[k];
}
template <class T> void scale(T* out, const T* a, double s, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = T(s * double(a[k]));
}
template <class T> void bias_add(T* out, const T* x, const T* bias, const T* residual, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = x[r * cols + c] + bias[c] + (residual ? residual[r * cols + c] : T(0));
}
template <class T> void sum_rows(T* out, const T* x, int64_t rows, int64_t cols) {
  for (int64_t c = 0; c < cols; ++c) {
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += double(x[r * cols + c]);
    out[c] = T(s);
  }
}

// GELU, tanh form: ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);
// gelu'(x) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
static constexpr double kGeluS = 0.7978845608028654;  // √(2/π)
static double gelu(double v) { return 0.5 * v * (1.0 + std::tanh(kGeluS * (v + 0.044715 * v * v * v))); }
static double gelu_grad(double v) {
  const double t = std::tanh(kGeluS * (v + 0.044715 * v * v * v));
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * kGeluS * (1 + 3 * 0.044715 * v * v);
}
// f32 by vecmath's loops (vectorised, -O3 in every build); double keeps libm's tanh as the reference.
template <class T> void bias_gelu_forward(T* out, const T* x, const T* bias, int64_t rows, int64_t cols) {
  if constexpr (sizeof(T) == sizeof(float))
    gelu_f32(out, x, bias, rows, cols);
  else
    for (int64_t k = 0; k < rows * cols; ++k) out[k] = T(gelu(double(x[k]) + (bias ? double(bias[k % cols]) : 0.0)));
}
template <class T> void bias_gelu_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols) {
  if constexpr (sizeof(T) == sizeof(float))
    gelu_backward_f32(dx, x, bias, dy, rows, cols);
  else
    for (int64_t k = 0; k < rows * cols; ++k)
      dx[k] = T(double(dy[k]) * gelu_grad(double(x[k]) + (bias ? double(bias[k % cols]) : 0.0)));
}
template <class T> void gelu_forward(T* out, const T* x, int64_t n) { bias_gelu_forward(out, x, (const T*)nullptr, 1, n); }
template <class T> void gelu_backward(T* dx, const T* x, const T* dy, int64_t n) {
  bias_gelu_backward(dx, x, (const T*)nullptr, dy, 1, n);
}
template <class T> void sigmoid_forward(T* y, const T* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] = T(1.0 / (1.0 + std::exp(-double(x[k]))));
}
template <class T> void sigmoid_backward(T* dx, const T* y, const T* dy, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dx[k] = dy[k] * y[k] * (T(1) - y[k]);
}
template <class T> void tanh_forward(T* y, const T* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] = T(std::tanh(double(x[k])));
}
template <class T> void tanh_backward(T* dx, const T* y, const T* dy, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dx[k] = dy[k] * (T(1) - y[k] * y[k]);
}

#define COOPGEN_INSTANTIATE(T)                                                   \
  template void add<T>(T*, const T*, const T*, double, int64_t);                 \
  template void mul<T>(T*, const T*, const T*, int64_t);                         \
  template void scale<T>(T*, const T*, double, int64_t);                         \
  template void bias_add<T>(T*, const T*, const T*, const T*, int64_t, int64_t); \
  template void bias_gelu_forward<T>(T*, const T*, const T*, int64_t, int64_t);  \
  template void bias_gelu_backward<T>(T*, const T*, const T*, const T*, int64_t, int64_t); \
  template void sum_rows<T>(T*, const T*, int64_t, int64_t);                     \
  template void gelu_forward<T>(T*, const T*, int64_t);                          \
  template void gelu_backward<T>(T*, const T*, const T*, int64_t);               \
  template void sigmoid_forward<T>(T*, const T*, int64_t);                       \
  template void sigmoid_backward<T>(T*, const T*, const T*, int64_t);            \
  template void tanh_forward<T>(T*, const T*, int64_t);                          \
  template void tanh_backward<T>(T*, const T*, const T*, int64_t);
COOPGEN_INSTANTIATE(float)
COOPGEN_INSTANTIATE(double)
#undef COOPGEN_INSTANTIATE

}  // namespace coopgen::cpu
