// CUDA twins of kernels/cpu/embedding.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void embedding_forward(float* out, const int32_t* ids, const float* w, const int32_t* pos, const float* p, int64_t n,
                       int64_t dim, cudaStream_t s);
void embedding_backward(float* dw, const int32_t* ids, const float* dout, int64_t n, int64_t dim, cudaStream_t s);

}  // namespace coopgen::cuda
