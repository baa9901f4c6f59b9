// CPU matmul through CBLAS (OpenBLAS): C[b] = α·op(A[b])·op(B[b]) + β·C[b], row-major, batch
// strides M·K, K·N, M·N. op(A) is M×K, op(B) is K×N.
#pragma once
#include <cstdint>

namespace coopgen::cpu {

template <class T>
void matmul(T* c, const T* a, const T* b, int64_t batch, int64_t m, int64_t n, int64_t k,
            bool trans_a, bool trans_b, double alpha, double beta);

// The size of OpenBLAS's thread pool, for the whole process (≥ 1).
void set_blas_threads(int threads);

}  // namespace coopgen::cpu
