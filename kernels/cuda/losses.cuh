// CUDA twins of kernels/cpu/losses.h. `row_loss` is scratch of one float per row. The logits
// chunks z and dz are in the activations' storage type T (float or __nv_bfloat16); the running
// state (mx, s, zy), lse, masks, weights and the loss are f32.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

template <class T>
void logsumexp_chunk(float* mx, float* s, float* zy, const T* z, const int32_t* y, int64_t rows, int64_t cols,
                     int64_t v0, cudaStream_t st);
void weighted_logprob(float* loss, float* lse, float* row_loss, const float* mx, const float* s, const float* zy,
                      const float* m, const float* w, int64_t rows, int64_t time, cudaStream_t st);
template <class T>
void weighted_logprob_backward(T* dz, const T* z, const float* lse, const int32_t* y, const float* m, const float* w,
                               const float* dloss, int64_t rows, int64_t cols, int64_t time, int64_t v0, cudaStream_t st);
void bce_with_logits_forward(float* loss, float* scratch, const float* x, const float* t, int64_t n, cudaStream_t s);
void bce_with_logits_backward(float* dx, const float* x, const float* t, const float* dloss, int64_t n, cudaStream_t s);

}  // namespace coopgen::cuda
