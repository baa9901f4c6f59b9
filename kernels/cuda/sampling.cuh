// CUDA twin of kernels/cpu/sampling.h (f32).
#pragma once
#include <cuda_runtime.h>

#include "kernels/params.h"

namespace coopgen::cuda {

void sample_logits(int32_t* tokens, float* logp, float* logq, const float* logits, int64_t rows, int64_t vocab,
                   const SampleParams& args, cudaStream_t s);

}  // namespace coopgen::cuda
