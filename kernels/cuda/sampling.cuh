// CUDA twin of kernels/cpu/sampling.h (f32).
#pragma once
#include <cuda_runtime.h>

#include "kernels/params.h"

namespace coopgen::cuda {

// Floats of workspace sample_logits needs (0: none): rows·chunks·4 when it splits rows over
// several blocks (untruncated tempered sampling of a few rows of at least 16,384 logits).
int64_t sample_workspace(int64_t rows, int64_t vocab, const SampleParams& args);
// stream: null, or i32 [4] in device memory: the Philox seed (used instead of args.seed), then an
// offset added to args.offset, each as low and high word.
void sample_logits(int32_t* tokens, float* logp, float* logq, float* workspace, const float* logits, int64_t rows,
                   int64_t vocab, const SampleParams& args, const int32_t* stream, cudaStream_t s);

}  // namespace coopgen::cuda
