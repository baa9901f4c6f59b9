// CUDA twins of kernels/cpu/layernorm.h: T is the storage type of x, y, g, b and their gradients
// (float or __nv_bfloat16); the saved mean and rstd are f32.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T>
void layernorm_forward(T* y, float* mean, float* rstd, const T* x, const T* g, const T* b, int64_t rows, int64_t cols,
                       double eps, cudaStream_t s);
template <class T>
void layernorm_backward(T* dx, T* dg, T* db, const T* dy, const T* x, const T* g, const float* mean, const float* rstd,
                        int64_t rows, int64_t cols, cudaStream_t s);

}  // namespace coopgen::cuda
