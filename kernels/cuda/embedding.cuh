// CUDA twins of kernels/cpu/embedding.h: f32 tables, f32 gradients of the tables; the gathered
// rows (and their gradient) in the activations' storage type T (float or __nv_bfloat16).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T>
void embedding_forward(T* out, const int32_t* ids, const float* w, const int32_t* pos, const float* p, int64_t n,
                       int64_t dim, cudaStream_t s);
template <class T>
void embedding_backward(float* dw, const int32_t* ids, const T* dout, int64_t n, int64_t dim, cudaStream_t s);

}  // namespace coopgen::cuda
