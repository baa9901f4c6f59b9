// CUDA twin of kernels/cpu/top_k.h (f32).
#pragma once
#include <cuda_runtime.h>

#include "kernels/params.h"

namespace coopgen::cuda {

void top_k_logits(float* out, const float* logits, int64_t rows, int64_t vocab, const TopKParams& p, cudaStream_t s);

}  // namespace coopgen::cuda
