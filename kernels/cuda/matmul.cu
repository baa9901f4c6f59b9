// Row-major C = α·op(A)·op(B) + β·C through column-major cuBLAS: compute Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e.
// swap the operands and pass the row-major buffers as they are. FLOPs 2·batch·M·N·K.
#include <type_traits>

#include "core/error.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul.cuh"

namespace coopgen::cuda {

template <class T, class C>
void matmul(cublasHandle_t handle, C* c, const T* a, const T* b, int64_t batch, int64_t m, int64_t n, int64_t k,
            bool trans_a, bool trans_b, double alpha, double beta, bool bf16) {
  if (batch == 0 || m == 0 || n == 0) return;
  const float al = float(alpha), be = float(beta);
  const int lda = int(trans_a ? m : k), ldb = int(trans_b ? k : n);
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  constexpr bool stored_bf16 = std::is_same_v<T, bf16_t>;
  // f32 storage: SGEMM, or the tensor cores on bf16-rounded operands (FAST_16BF); bf16 storage:
  // bf16 operands, f32 accumulation, a bf16 or f32 result.
  const cudaDataType type = stored_bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const cudaDataType c_type = std::is_same_v<C, float> ? CUDA_R_32F : CUDA_R_16BF;
  ++device_counters().blas_calls;
  const cublasStatus_t st =
      stored_bf16 || bf16
          ? cublasGemmStridedBatchedEx(handle, op_b, op_a, int(n), int(m), int(k), &al, b, type, ldb > 0 ? ldb : 1,
                                       k * n, a, type, lda > 0 ? lda : 1, m * k, &be, c, c_type, int(n), m * n, int(batch),
                                       stored_bf16 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_16BF,
                                       CUBLAS_GEMM_DEFAULT)
          : cublasSgemmStridedBatched(handle, op_b, op_a, int(n), int(m), int(k), &al, reinterpret_cast<const float*>(b),
                                      ldb > 0 ? ldb : 1, k * n, reinterpret_cast<const float*>(a), lda > 0 ? lda : 1,
                                      m * k, &be, reinterpret_cast<float*>(c), int(n), m * n, int(batch));
  cuda_check(st, "cuBLAS ", stored_bf16 ? "gemm (bf16 storage)" : bf16 ? "gemm (bf16 tensor cores)" : "sgemm", " (batch ",
             batch, ", ", m, "x", n, "x", k, ")");
}

template void matmul<float, float>(cublasHandle_t, float*, const float*, const float*, int64_t, int64_t, int64_t,
                                   int64_t, bool, bool, double, double, bool);
template void matmul<bf16_t, bf16_t>(cublasHandle_t, bf16_t*, const bf16_t*, const bf16_t*, int64_t, int64_t, int64_t,
                                     int64_t, bool, bool, double, double, bool);
template void matmul<bf16_t, float>(cublasHandle_t, float*, const bf16_t*, const bf16_t*, int64_t, int64_t, int64_t,
                                    int64_t, bool, bool, double, double, bool);

}  // namespace coopgen::cuda
