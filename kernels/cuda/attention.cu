// Attention without the Tq×Tk matrix (math in kernels/cpu/attention.h): the entry points of
// attention.cuh, which pick one of three kernel families (attention_family.cuh) by shape and
// precision: one query per head takes the split-K decode kernels (attention_decode.cu); bf16
// tensor cores at head dims 64 and 128 when the params ask for them (attention_mma.cu); f32 on the
// SIMT cores otherwise (attention_simt.cu). The backward pass first computes D_i = dO_i·O_i (a
// warp per row, below), then the family's kernel; dq is summed in f32 and stored as E here.
#include "kernels/cuda/attention.cuh"

#include <type_traits>

#include "kernels/cuda/attention_family.cuh"

namespace coopgen::cuda {

using namespace attention_family;

namespace {

template <class E> __global__ void __launch_bounds__(kBlock) store_kernel(E* out, const float* x, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) out[k] = from_f32<E>(x[k]);
}

// D_i = Σ_c dO_ic·O_ic, a warp per row.
template <class E>
__global__ void __launch_bounds__(kBlock)
    attention_delta_kernel(float* delta, const E* o, const E* dout, int64_t rows, int dim) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  float acc = 0.0f;
  for (int c = int(threadIdx.x % 32); c < dim; c += 32) acc += to_f32(dout[row * dim + c]) * to_f32(o[row * dim + c]);
  acc = warp_sum(acc);
  if (threadIdx.x % 32 == 0) delta[row] = acc;
}

}  // namespace

int64_t attention_forward_workspace(const AttentionParams& s) { return decode_workspace(s); }

template <class E>
void attention_forward(E* o, float* lse, float* workspace, const E* q, const E* k, const E* v, const float* keymask,
                       const AttentionParams& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  if (s.tq == 0 || s.batch * s.heads == 0) return;
  if (s.tq == 1 && s.tk > 0) return forward_decode(o, lse, workspace, q, k, v, keymask, s, st);
  if (s.tensor_cores && mma_dim(s.dim)) return forward_mma(o, lse, q, k, v, keymask, s, st);
  forward_simt(o, lse, q, k, v, keymask, s, st);
}

template <class E>
void attention_backward(float* dq_acc, E* dq, E* dk, E* dv, float* delta, const E* q, const E* k, const E* v,
                        const E* o, const float* lse, const E* dout, const float* keymask,
                        const AttentionParams& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  CG_CHECK(s.kv_rows == s.tk, "cuda attention backward: K and V must be contiguous");
  const int64_t rows = s.batch * s.heads * s.tq;
  if (rows) cuda_check(cudaMemsetAsync(dq_acc, 0, size_t(rows * s.dim) * sizeof(float), st), "cuda attention: clearing dq");
  if (s.tk > 0 && s.batch * s.heads > 0) {
    if (rows)
      launch("attention_delta", attention_delta_kernel<E>, grid_for(rows * 32), kBlock, 0, st, delta, o, dout, rows,
             int(s.dim));
    if (s.tensor_cores && mma_dim(s.dim)) backward_mma(dq_acc, dk, dv, delta, q, k, v, dout, lse, keymask, s, st);
    else backward_simt(dq_acc, dk, dv, delta, q, k, v, dout, lse, keymask, s, st);
  }
  if constexpr (!std::is_same_v<E, float>)  // dq was summed in f32 (atomics); store it as E
    if (rows) launch("attention_dq_store", store_kernel<E>, grid_for(rows * s.dim), kBlock, 0, st, dq, (const float*)dq_acc, rows * s.dim);
}

#define COOPGEN_INSTANTIATE(E)                                                                                     \
  template void attention_forward<E>(E*, float*, float*, const E*, const E*, const E*, const float*,                \
                                     const AttentionParams&, cudaStream_t);                                         \
  template void attention_backward<E>(float*, E*, E*, E*, float*, const E*, const E*, const E*, const E*,           \
                                      const float*, const E*, const float*, const AttentionParams&, cudaStream_t);
COOPGEN_INSTANTIATE(float)
COOPGEN_INSTANTIATE(bf16_t)
#undef COOPGEN_INSTANTIATE

}  // namespace coopgen::cuda
