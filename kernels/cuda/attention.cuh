// CUDA twins of kernels/cpu/attention.h (f32, head dim ≤ 128). `delta` is scratch of one float per
// query row; dq is accumulated with atomics, so the launcher zeroes it.
#pragma once
#include <cuda_runtime.h>

#include "kernels/cpu/attention.h"

namespace coopgen::cuda {

void attention_forward(float* o, float* lse, const float* q, const float* k, const float* v, const float* keymask,
                       const cpu::AttentionShape& s, cudaStream_t st);
void attention_backward(float* dq, float* dk, float* dv, float* delta, const float* q, const float* k, const float* v,
                        const float* o, const float* lse, const float* dout, const float* keymask,
                        const cpu::AttentionShape& s, cudaStream_t st);

}  // namespace coopgen::cuda
