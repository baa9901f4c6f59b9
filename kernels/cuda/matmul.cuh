// CUDA twin of kernels/cpu/matmul.h through cuBLAS (f32, strided batched).
#pragma once
#include <cublas_v2.h>

#include <cstdint>

namespace coopgen::cuda {

void matmul(cublasHandle_t handle, float* c, const float* a, const float* b, int64_t batch, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta);

}  // namespace coopgen::cuda
