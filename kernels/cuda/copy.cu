// Fill, strided copy/cast, Philox uniforms and the token range check.
// Memory-bound: one read and one write per element; one thread per element, grid-stride.
#include <cuda_bf16.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/copy.cuh"
#include "kernels/philox.h"

namespace coopgen::cuda {

namespace {


template <class T> __global__ void __launch_bounds__(kBlock) fill_kernel(T* out, int64_t n, T v) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) out[k] = v;
}

// i32 → i32 copies go through int, never float (ids above 2^24 stay exact).
template <class Tin, class Tout> __device__ __forceinline__ Tout convert(Tin v) {
  if constexpr (std::is_same_v<Tin, Tout>) return v;
  else return from_f32<Tout>(to_f32(v));
}

template <class Tin, class Tout>
__global__ void __launch_bounds__(kBlock) strided_copy_kernel(Tout* out, const Tin* in, StridedLayout l, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) {
    int64_t rest = k, io = 0, oo = 0;
    for (int d = l.ndim - 1; d >= 0; --d) {
      const int64_t idx = rest % l.shape[d];
      rest /= l.shape[d];
      io += idx * l.in_strides[d];
      oo += idx * l.out_strides[d];
    }
    out[oo] = convert<Tin, Tout>(in[io]);
  }
}

__global__ void __launch_bounds__(kBlock)
    philox_uniform_kernel(float* out, int64_t n, PhiloxParams p) {
  for (int64_t k = global_index(); k < n; k += grid_stride())
    out[k] = float(philox::philox_value(p.seed, p.offset, uint64_t(k), p.lo, p.hi, p.dropout));
}

__global__ void __launch_bounds__(kBlock)
    token_range_check_kernel(int32_t* bad, const int32_t* ids, int64_t n, int64_t vocab) {
  int32_t count = 0;
  for (int64_t k = global_index(); k < n; k += grid_stride()) count += (ids[k] < 0 || ids[k] >= vocab);
  if (count) atomicAdd(bad, count);
}

template <class Tin>
void copy_from(void* out, DType out_t, const Tin* in, const StridedLayout& l, int64_t n, cudaStream_t s) {
  const unsigned g = grid_for(n);
  switch (out_t) {
    case DType::F32: return launch("strided_copy", strided_copy_kernel<Tin, float>, g, kBlock, 0, s, static_cast<float*>(out), in, l, n);
    case DType::BF16: return launch("strided_copy", strided_copy_kernel<Tin, __nv_bfloat16>, g, kBlock, 0, s, static_cast<__nv_bfloat16*>(out), in, l, n);
    case DType::I32: return launch("strided_copy", strided_copy_kernel<Tin, int32_t>, g, kBlock, 0, s, static_cast<int32_t*>(out), in, l, n);
    case DType::F64: break;
  }
  fail("cuda strided_copy: f64 is not supported on cuda");
}

}  // namespace

void fill(void* out, DType t, int64_t n, double value, cudaStream_t s) {
  if (n == 0) return;
  const unsigned g = grid_for(n);
  switch (t) {
    case DType::F32: return launch("fill", fill_kernel<float>, g, kBlock, 0, s, static_cast<float*>(out), n, float(value));
    case DType::BF16: return launch("fill", fill_kernel<__nv_bfloat16>, g, kBlock, 0, s, static_cast<__nv_bfloat16*>(out), n, __float2bfloat16_rn(float(value)));
    case DType::I32: return launch("fill", fill_kernel<int32_t>, g, kBlock, 0, s, static_cast<int32_t*>(out), n, int32_t(value));
    case DType::F64: break;
  }
  fail("cuda fill: f64 is not supported on cuda");
}

void strided_copy(void* out, DType out_t, const void* in, DType in_t, const StridedLayout& l, cudaStream_t s) {
  int64_t n = 1;
  for (int d = 0; d < l.ndim; ++d) n *= l.shape[d];
  if (n == 0) return;
  switch (in_t) {
    case DType::F32: return copy_from(out, out_t, static_cast<const float*>(in), l, n, s);
    case DType::BF16: return copy_from(out, out_t, static_cast<const __nv_bfloat16*>(in), l, n, s);
    case DType::I32: return copy_from(out, out_t, static_cast<const int32_t*>(in), l, n, s);
    case DType::F64: break;
  }
  fail("cuda strided_copy: f64 is not supported on cuda");
}

void philox_uniform(float* out, int64_t n, const PhiloxParams& p, cudaStream_t s) {
  if (n) launch("philox_uniform", philox_uniform_kernel, grid_for(n), kBlock, 0, s, out, n, p);
}

void token_range_check(int32_t* bad, const int32_t* ids, int64_t n, int64_t vocab, cudaStream_t s) {
  CG_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int32_t), s));
  if (n) launch("token_range_check", token_range_check_kernel, grid_for(n), kBlock, 0, s, bad, ids, n, vocab);
}

}  // namespace coopgen::cuda
