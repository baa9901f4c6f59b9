// CUDA twin of kernels/cpu/adamw.h (f32 parameters and moments).
#pragma once
#include <cuda_runtime.h>

#include "kernels/params.h"

namespace coopgen::cuda {

void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamWParams& a, cudaStream_t s);

}  // namespace coopgen::cuda
