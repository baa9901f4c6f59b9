// Row-major C = α·op(A)·op(B) + β·C through column-major cuBLAS: compute Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e.
// swap the operands and pass the row-major buffers as they are. FLOPs 2·batch·M·N·K.
#include "engine/error.h"
#include "kernels/cuda/matmul.cuh"

namespace coopgen::cuda {

void matmul(cublasHandle_t handle, float* c, const float* a, const float* b, int64_t batch, int64_t m,
            int64_t n, int64_t k, bool trans_a, bool trans_b, double alpha, double beta) {
  if (batch == 0 || m == 0 || n == 0) return;
  const float al = float(alpha), be = float(beta);
  const int lda = int(trans_a ? m : k), ldb = int(trans_b ? k : n);
  cublasStatus_t st = cublasSgemmStridedBatched(
      handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k),
      &al, b, ldb > 0 ? ldb : 1, k * n, a, lda > 0 ? lda : 1, m * k, &be, c, int(n), m * n, int(batch));
  if (st != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS sgemm (batch ", batch, ", ", m, "x", n, "x", k, ") failed: ", cublasGetStatusString(st));
}

}  // namespace coopgen::cuda
