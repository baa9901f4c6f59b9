// CUDA twins of kernels/cpu/elementwise.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void add(float* out, const float* a, const float* b, double alpha, int64_t n, cudaStream_t s);
void mul(float* out, const float* a, const float* b, int64_t n, cudaStream_t s);
void scale(float* out, const float* a, double factor, int64_t n, cudaStream_t s);
void bias_add(float* out, const float* x, const float* bias, const float* residual, int64_t rows, int64_t cols,
              cudaStream_t s);
void sum_rows(float* out, const float* x, int64_t rows, int64_t cols, cudaStream_t s);
void gelu_forward(float* out, const float* x, int64_t n, cudaStream_t s);
void gelu_backward(float* dx, const float* x, const float* dy, int64_t n, cudaStream_t s);
void bias_gelu_forward(float* out, const float* x, const float* bias, int64_t rows, int64_t cols, cudaStream_t s);
void bias_gelu_backward(float* dx, const float* x, const float* bias, const float* dy, int64_t rows, int64_t cols,
                        cudaStream_t s);
void sigmoid_forward(float* y, const float* x, int64_t n, cudaStream_t s);
void sigmoid_backward(float* dx, const float* y, const float* dy, int64_t n, cudaStream_t s);
void tanh_forward(float* y, const float* x, int64_t n, cudaStream_t s);
void tanh_backward(float* dx, const float* y, const float* dy, int64_t n, cudaStream_t s);

}  // namespace coopgen::cuda
