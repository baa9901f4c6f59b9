// What the attention kernel families share (kernels/cuda/attention*.cu): which keys a query may
// see, how far a tile of queries can see, and each family's launcher. The public entries are in
// attention.cuh; they pick a family by shape and precision (attention.cu).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/common.cuh"
#include "kernels/params.h"

namespace coopgen::cuda::attention_family {

constexpr int kMaxDim = 128;  // head dimensions every family handles

__device__ __forceinline__ bool visible(const float* keymask, int64_t j, int64_t i, const AttentionParams& s) {
  return j < s.tk && (!keymask || keymask[j] != 0.0f) && !(s.causal && j > i + s.tk - s.tq);
}

// The grid of a per-(batch, head) kernel, as FlashAttention-2 lays it out: `tiles` along x (the
// tiles of one head run side by side and share its K and V in L2), batch along y, heads along z,
// so B·H may pass the 65,535 a single y dimension allows. head_row() is the (b, h) row of a block.
inline dim3 head_grid(int64_t tiles, const AttentionParams& s) {
  return dim3(unsigned(tiles), unsigned(s.batch), unsigned(s.heads));
}
__device__ __forceinline__ int64_t head_row() { return int64_t(blockIdx.y) * gridDim.z + blockIdx.z; }

// How many keys the queries q0 … q0 + rows − 1 can see: all, or up to the causal horizon of the last.
__device__ __forceinline__ int64_t keys_seen(int64_t q0, int64_t rows, const AttentionParams& s) {
  const int64_t last = (q0 + rows < s.tq ? q0 + rows : s.tq) - 1, horizon = last + s.tk - s.tq + 1;
  return s.causal && horizon < s.tk ? horizon : s.tk;
}

// SIMT, f32 arithmetic on any head dimension (attention_simt.cu).
template <class E>
void forward_simt(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask, const AttentionParams& s,
                  cudaStream_t st);
template <class E>
void backward_simt(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v, const E* dout,
                   const float* lse, const float* keymask, const AttentionParams& s, cudaStream_t st);

// bf16 mma.sync, head dimensions 64 and 128 (attention_mma.cu).
inline bool mma_dim(int64_t dim) { return dim == 64 || dim == 128; }
template <class E>
void forward_mma(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask, const AttentionParams& s,
                 cudaStream_t st);
template <class E>
void backward_mma(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v, const E* dout,
                  const float* lse, const float* keymask, const AttentionParams& s, cudaStream_t st);

// One query per head, split-K over the keys (attention_decode.cu); `workspace` of
// decode_workspace(s) floats when the keys are split.
int64_t decode_workspace(const AttentionParams& s);
template <class E>
void forward_decode(E* o, float* lse, float* workspace, const E* q, const E* k, const E* v, const float* keymask,
                    const AttentionParams& s, cudaStream_t st);

}  // namespace coopgen::cuda::attention_family
