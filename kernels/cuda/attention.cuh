// CUDA twins of kernels/cpu/attention.h (f32, head dim ≤ 128). `delta` is scratch of one float per
// query row; dq is accumulated with atomics, so the launcher zeroes it.
#pragma once
#include <cuda_runtime.h>

#include "kernels/cpu/attention.h"

namespace coopgen::cuda {

// tensor_cores: bf16 operands on mma.sync with f32 accumulation where the head dim is 64 or 128
// (elsewhere, and when false, f32 on the SIMT cores); for the backward pass too. One query per
// head (decoding) takes the split-K path in f32 whatever the precision; its splits need
// `workspace` of attention_forward_workspace(s) floats (none: null).
int64_t attention_forward_workspace(const cpu::AttentionShape& s);
void attention_forward(float* o, float* lse, float* workspace, const float* q, const float* k, const float* v,
                       const float* keymask, const cpu::AttentionShape& s, bool tensor_cores, cudaStream_t st);
void attention_backward(float* dq, float* dk, float* dv, float* delta, const float* q, const float* k, const float* v,
                        const float* o, const float* lse, const float* dout, const float* keymask,
                        const cpu::AttentionShape& s, bool tensor_cores, cudaStream_t st);

}  // namespace coopgen::cuda
