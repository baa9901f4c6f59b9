// CUDA twin of kernels/cpu/matmul.h through cuBLAS (strided batched). T = float: f32 storage,
// SGEMM, or with `bf16` the tensor cores multiply bf16-rounded operands and accumulate in f32
// (CUBLAS_COMPUTE_32F_FAST_16BF). T = __nv_bfloat16: bf16 operands and result, f32 accumulation.
#pragma once
#include <cublas_v2.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T>
void matmul(cublasHandle_t handle, T* c, const T* a, const T* b, int64_t batch, int64_t m, int64_t n, int64_t k,
            bool trans_a, bool trans_b, double alpha, double beta, bool bf16);

}  // namespace coopgen::cuda
