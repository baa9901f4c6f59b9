// CUDA twins of kernels/cpu/attention.h (head dim ≤ 128). E is the storage type of q, k, v, o and
// their gradients (float or __nv_bfloat16; f32 arithmetic); lse, the key mask and `delta` (scratch
// of one float per query row) are f32. dq is summed with atomics into the f32 `dq_acc`, which the
// launcher zeroes; for E = float pass dq_acc = dq, for bf16 it is scratch and dq gets the rounded sum.
#pragma once
#include <cuda_runtime.h>

#include "kernels/params.h"

namespace coopgen::cuda {

// s.tensor_cores: bf16 operands on mma.sync with f32 accumulation where the head dim is 64 or 128
// (elsewhere, and when false, f32 on the SIMT cores); for the backward pass too. One query per
// head (decoding) takes the split-K path in f32 whatever the precision; its splits need
// `workspace` of attention_forward_workspace(s) floats (none: null).
int64_t attention_forward_workspace(const AttentionParams& s);
template <class E>
void attention_forward(E* o, float* lse, float* workspace, const E* q, const E* k, const E* v, const float* keymask,
                       const AttentionParams& s, cudaStream_t st);
template <class E>
void attention_backward(float* dq_acc, E* dq, E* dk, E* dv, float* delta, const E* q, const E* k, const E* v,
                        const E* o, const float* lse, const E* dout, const float* keymask,
                        const AttentionParams& s, cudaStream_t st);

}  // namespace coopgen::cuda
