// CUDA twins of kernels/cpu/elementwise.h: T is the storage type, float or __nv_bfloat16
// (instantiated for both; arithmetic in f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T> void add(T* out, const T* a, const T* b, double alpha, int64_t n, cudaStream_t s);
template <class T> void mul(T* out, const T* a, const T* b, int64_t n, cudaStream_t s);
template <class T> void scale(T* out, const T* a, double factor, int64_t n, cudaStream_t s);
template <class T>
void bias_add(T* out, const T* x, const T* bias, const T* residual, int64_t rows, int64_t cols, cudaStream_t s);
template <class T> void sum_rows(T* out, const T* x, int64_t rows, int64_t cols, cudaStream_t s);
template <class T> void gelu_forward(T* out, const T* x, int64_t n, cudaStream_t s);
template <class T> void gelu_backward(T* dx, const T* x, const T* dy, int64_t n, cudaStream_t s);
template <class T> void bias_gelu_forward(T* out, const T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t s);
template <class T>
void bias_gelu_backward(T* dx, const T* x, const T* bias, const T* dy, int64_t rows, int64_t cols, cudaStream_t s);
template <class T> void sigmoid_forward(T* y, const T* x, int64_t n, cudaStream_t s);
template <class T> void sigmoid_backward(T* dx, const T* y, const T* dy, int64_t n, cudaStream_t s);
template <class T> void tanh_forward(T* y, const T* x, int64_t n, cudaStream_t s);
template <class T> void tanh_backward(T* dx, const T* y, const T* dy, int64_t n, cudaStream_t s);

}  // namespace coopgen::cuda
