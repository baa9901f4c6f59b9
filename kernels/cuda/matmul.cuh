// CUDA twin of kernels/cpu/matmul.h through cuBLAS (f32 storage, strided batched). bf16: the
// tensor cores multiply bf16-rounded operands and accumulate in f32 (CUBLAS_COMPUTE_32F_FAST_16BF).
#pragma once
#include <cublas_v2.h>

#include <cstdint>

namespace coopgen::cuda {

void matmul(cublasHandle_t handle, float* c, const float* a, const float* b, int64_t batch, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta, bool bf16);

}  // namespace coopgen::cuda
