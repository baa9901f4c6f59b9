// CUDA twins of kernels/cpu/softmax.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols, cudaStream_t s);
void softmax_backward(float* dx, const float* y, const float* dy, int64_t rows, int64_t cols, cudaStream_t s);

}  // namespace coopgen::cuda
