// CUDA twins of kernels/cpu/copy.h: fill, strided copy with cast, Philox uniforms, token check.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"
#include "kernels/params.h"

namespace coopgen::cuda {

constexpr int kMaxDims = 8;
struct StridedLayout {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t in_strides[kMaxDims];
  int64_t out_strides[kMaxDims];
};

void fill(void* out, DType t, int64_t n, double value, cudaStream_t s);
// Element types f32, bf16, i32 on either side.
void strided_copy(void* out, DType out_t, const void* in, DType in_t, const StridedLayout& layout, cudaStream_t s);
void philox_uniform(float* out, int64_t n, const PhiloxParams& p, cudaStream_t s);
void token_range_check(int32_t* bad, const int32_t* ids, int64_t n, int64_t vocab, cudaStream_t s);

}  // namespace coopgen::cuda
