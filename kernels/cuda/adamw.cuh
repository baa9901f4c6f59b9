// CUDA twin of kernels/cpu/adamw.h (f32 parameters and moments).
#pragma once
#include <cuda_runtime.h>

#include "kernels/cpu/adamw.h"

namespace coopgen::cuda {

void adamw(float* p, const float* g, float* m, float* v, int64_t n, const cpu::AdamWArgs& a, cudaStream_t s);

}  // namespace coopgen::cuda
