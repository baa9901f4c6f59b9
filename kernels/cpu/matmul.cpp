#include "kernels/cpu/matmul.h"

#include <cblas.h>

#include <algorithm>

namespace coopgen::cpu {

static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                 const float* a, int lda, const float* b, int ldb, double beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, float(alpha), a, lda, b, ldb, float(beta), c, n);
}
static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                 const double* a, int lda, const double* b, int ldb, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

void set_blas_threads(int threads) { openblas_set_num_threads(std::max(1, threads)); }

template <class T>
void matmul(T* c, const T* a, const T* b, int64_t batch, int64_t m, int64_t n, int64_t k,
            bool trans_a, bool trans_b, double alpha, double beta) {
  if (m == 0 || n == 0) return;
  const int lda = int(std::max<int64_t>(1, trans_a ? m : k));
  const int ldb = int(std::max<int64_t>(1, trans_b ? k : n));
  for (int64_t i = 0; i < batch; ++i)
    gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n),
         int(k), alpha, a + i * m * k, lda, b + i * k * n, ldb, beta, c + i * m * n);
}
template void matmul<float>(float*, const float*, const float*, int64_t, int64_t, int64_t,
                            int64_t, bool, bool, double, double);
template void matmul<double>(double*, const double*, const double*, int64_t, int64_t, int64_t,
                             int64_t, bool, bool, double, double);

}  // namespace coopgen::cpu
