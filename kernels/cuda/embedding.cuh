// CUDA twins of kernels/cpu/embedding.h. The gathered rows (and their gradient) are in the
// activations' storage type T (float or __nv_bfloat16); the tables W are f32 parameters (f32
// gradients) or, for row gathers of activations (KV caches), of type T themselves.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace coopgen::cuda {

// Rows ids[k] of w (vocab × dim) plus, with pos, rows pos[k] of p (positions × dim); an id out of
// its table's range gives zeros (forward) and no gradient (backward).
template <class T, class W>
void embedding_forward(T* out, const int32_t* ids, const W* w, int64_t vocab, const int32_t* pos, const W* p,
                       int64_t positions, int64_t n, int64_t dim, cudaStream_t s);
template <class T>
void embedding_backward(float* dw, int64_t vocab, const int32_t* ids, const T* dout, int64_t n, int64_t dim,
                        cudaStream_t s);

}  // namespace coopgen::cuda
