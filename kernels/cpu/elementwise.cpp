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

// GELU: vecmath's loops (vectorised, -O3 in every build).
template <class T> void bias_gelu_forward(T* out, const T* x, const T* bias, int64_t rows, int64_t cols) {
  gelu_rows(out, x, bias, rows, cols);
}
template <class T> void bias_gelu_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols) {
  gelu_rows_backward(dx, x, bias, dy, rows, cols);
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
