// Embedding gather and its scatter-add gradient. One thread per output element (row-major, so a
// warp reads consecutive features of one row). The backward adds with atomics: rows that share a
// token collide; the order of those additions is not fixed (the CPU twin is the reference).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/embedding.cuh"

namespace coopgen::cuda {

namespace {
// Row `id` of a table of `rows` rows; an id outside it (the engine's check reports it at the next
// host synchronisation, engine/ops.cpp) reads as zeros and receives no gradient.
template <class W>
__device__ float row_value(const W* table, int64_t rows, int32_t id, int64_t dim, int64_t col) {
  return id >= 0 && id < rows ? to_f32(table[int64_t(id) * dim + col]) : 0.0f;
}
template <class T, class W>
__global__ void __launch_bounds__(kBlock)
    embedding_forward_kernel(T* out, const int32_t* ids, const W* w, int64_t vocab, const int32_t* pos,
                             const W* p, int64_t positions, int64_t n, int64_t dim) {
  for (int64_t k = global_index(); k < n * dim; k += grid_stride())
    out[k] = from_f32<T>(row_value(w, vocab, ids[k / dim], dim, k % dim) +
                         (pos ? row_value(p, positions, pos[k / dim], dim, k % dim) : 0.0f));
}
template <class T>
__global__ void __launch_bounds__(kBlock)
    embedding_backward_kernel(float* dw, int64_t vocab, const int32_t* ids, const T* dout, int64_t n,
                              int64_t dim) {
  for (int64_t k = global_index(); k < n * dim; k += grid_stride())
    if (ids[k / dim] >= 0 && ids[k / dim] < vocab) atomicAdd(&dw[int64_t(ids[k / dim]) * dim + k % dim], to_f32(dout[k]));
}
}  // namespace

template <class T, class W>
void embedding_forward(T* out, const int32_t* ids, const W* w, int64_t vocab, const int32_t* pos, const W* p,
                       int64_t positions, int64_t n, int64_t dim, cudaStream_t s) {
  if (n > 0 && dim > 0)
    launch("embedding_forward", embedding_forward_kernel<T, W>, grid_for(n * dim), kBlock, 0, s, out, ids, w, vocab, pos,
           p, positions, n, dim);
}
template <class T>
void embedding_backward(float* dw, int64_t vocab, const int32_t* ids, const T* dout, int64_t n, int64_t dim,
                        cudaStream_t s) {
  if (n > 0 && dim > 0)
    launch("embedding_backward", embedding_backward_kernel<T>, grid_for(n * dim), kBlock, 0, s, dw, vocab, ids, dout, n,
           dim);
}
template void embedding_forward<float, float>(float*, const int32_t*, const float*, int64_t, const int32_t*,
                                              const float*, int64_t, int64_t, int64_t, cudaStream_t);
template void embedding_forward<bf16_t, float>(bf16_t*, const int32_t*, const float*, int64_t, const int32_t*,
                                               const float*, int64_t, int64_t, int64_t, cudaStream_t);
template void embedding_forward<bf16_t, bf16_t>(bf16_t*, const int32_t*, const bf16_t*, int64_t, const int32_t*,
                                                const bf16_t*, int64_t, int64_t, int64_t, cudaStream_t);
template void embedding_backward<float>(float*, int64_t, const int32_t*, const float*, int64_t, int64_t, cudaStream_t);
template void embedding_backward<bf16_t>(float*, int64_t, const int32_t*, const bf16_t*, int64_t, int64_t,
                                         cudaStream_t);

}  // namespace coopgen::cuda
