// CPU reference: fill, strided copy with dtype cast, Philox uniforms, token range check.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/params.h"

namespace coopgen::cpu {

template <class T> void fill(T* out, int64_t n, double value);

// out[idx] = convert(in[idx]) over a `ndim`-dimensional index space, each side with its own
// element strides. Element types are given at run time (dtype cast f32/f64/bf16/i32).
void strided_copy(void* out, DType out_t, const int64_t* out_strides, const void* in, DType in_t,
                  const int64_t* in_strides, const int64_t* shape, int ndim);

template <class T>
void philox_uniform(T* out, int64_t n, const PhiloxParams& p);

int32_t token_range_check(const int32_t* ids, int64_t n, int64_t vocab);

}  // namespace coopgen::cpu
