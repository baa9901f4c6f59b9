// Row-major C = α·op(A)·op(B) + β·C through column-major cuBLAS: compute Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e.
// swap the operands and pass the row-major buffers as they are. FLOPs 2·batch·M·N·K.
#include "engine/error.h"
#include "kernels/cuda/matmul.cuh"

namespace coopgen::cuda {

void matmul(cublasHandle_t handle, float* c, const float* a, const float* b, int64_t batch, int64_t m, int64_t n,
            int64_t k, bool trans_a, bool trans_b, double alpha, double beta, bool bf16) {
  if (batch == 0 || m == 0 || n == 0) return;
  const float al = float(alpha), be = float(beta);
  const int lda = int(trans_a ? m : k), ldb = int(trans_b ? k : n);
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasStatus_t st =
      bf16 ? cublasGemmStridedBatchedEx(handle, op_b, op_a, int(n), int(m), int(k), &al, b, CUDA_R_32F, ldb > 0 ? ldb : 1,
                                        k * n, a, CUDA_R_32F, lda > 0 ? lda : 1, m * k, &be, c, CUDA_R_32F, int(n), m * n,
                                        int(batch), CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_GEMM_DEFAULT)
           : cublasSgemmStridedBatched(handle, op_b, op_a, int(n), int(m), int(k), &al, b, ldb > 0 ? ldb : 1, k * n, a,
                                       lda > 0 ? lda : 1, m * k, &be, c, int(n), m * n, int(batch));
  if (st != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS ", bf16 ? "gemm (bf16 tensor cores)" : "sgemm", " (batch ", batch, ", ", m, "x", n, "x", k,
         ") failed: ", cublasGetStatusString(st));
}

}  // namespace coopgen::cuda
