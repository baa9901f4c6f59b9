// CPU reference: elementwise ops, bias add and its gradient, activations and their gradients.
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T> void add(T* out, const T* a, const T* b, double alpha, int64_t n);  // a + αb
template <class T> void mul(T* out, const T* a, const T* b, int64_t n);
template <class T> void scale(T* out, const T* a, double s, int64_t n);
// out = x + bias (+ residual, when not null): a linear layer's epilogue, residual stream included.
template <class T> void bias_add(T* out, const T* x, const T* bias, const T* residual, int64_t rows, int64_t cols);
template <class T> void sum_rows(T* out, const T* x, int64_t rows, int64_t cols);
template <class T> void gelu_forward(T* out, const T* x, int64_t n);
template <class T> void gelu_backward(T* dx, const T* x, const T* dy, int64_t n);
// The MLP's epilogue in one pass: out = gelu(x + bias); dx = dy · gelu'(x + bias) (db = Σ_rows dx).
template <class T> void bias_gelu_forward(T* out, const T* x, const T* bias, int64_t rows, int64_t cols);
template <class T> void bias_gelu_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols);
template <class T> void sigmoid_forward(T* y, const T* x, int64_t n);
template <class T> void sigmoid_backward(T* dx, const T* y, const T* dy, int64_t n);
template <class T> void tanh_forward(T* y, const T* x, int64_t n);
template <class T> void tanh_backward(T* dx, const T* y, const T* dy, int64_t n);

}  // namespace coopgen::cpu
