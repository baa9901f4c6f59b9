// CUDA twins of kernels/cpu/reduce.h (f32).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

void masked_pool(float* out, const float* x, const float* m, int64_t batch, int64_t time, int64_t cols,
                 bool mean, cudaStream_t s);
void masked_pool_backward(float* dx, const float* dout, const float* m, int64_t batch, int64_t time,
                          int64_t cols, bool mean, cudaStream_t s);
// out[0] = Σ x (or Σ x²) over n floats. `partials` holds sum_partials(n) floats (0: none needed) for
// the grid-wide first pass; nullptr sums in one block.
int64_t sum_partials(int64_t n);
void sum_all(float* out, float* partials, const float* x, int64_t n, cudaStream_t s);
void sum_squares(float* out, float* partials, const float* x, int64_t n, cudaStream_t s);

}  // namespace coopgen::cuda
