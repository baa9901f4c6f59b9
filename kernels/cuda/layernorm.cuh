// CUDA twins of kernels/cpu/layernorm.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* g, const float* b,
                       int64_t rows, int64_t cols, double eps, cudaStream_t s);
void layernorm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* g,
                        const float* mean, const float* rstd, int64_t rows, int64_t cols, cudaStream_t s);

}  // namespace coopgen::cuda
