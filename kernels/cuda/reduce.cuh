// CUDA twins of kernels/cpu/reduce.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void masked_pool(float* out, const float* x, const float* m, int64_t batch, int64_t time, int64_t cols,
                 bool mean, cudaStream_t s);
void masked_pool_backward(float* dx, const float* dout, const float* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean, cudaStream_t s);
void sum_all(float* out, const float* x, int64_t n, cudaStream_t s);
void sum_squares(float* out, const float* x, int64_t n, cudaStream_t s);

}  // namespace coopgen::cuda
