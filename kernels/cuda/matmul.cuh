// CUDA twin of kernels/cpu/matmul.h through cuBLAS (strided batched). T = float: f32 storage,
// SGEMM, or with `bf16` the tensor cores multiply bf16-rounded operands and accumulate in f32
// (CUBLAS_COMPUTE_32F_FAST_16BF). T = __nv_bfloat16: bf16 operands, f32 accumulation, and a
// result C of bf16, or of f32 where sums must not be rounded between products (C = float).
#pragma once
#include <cublas_v2.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T, class C = T>
void matmul(cublasHandle_t handle, C* c, const T* a, const T* b, int64_t batch, int64_t m, int64_t n, int64_t k,
            bool trans_a, bool trans_b, double alpha, double beta, bool bf16);

}  // namespace coopgen::cuda
