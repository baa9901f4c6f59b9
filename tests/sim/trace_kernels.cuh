// Host entries of the access trace's known-answer kernels (tests/sim/trace_kernels.cu): one warp
// (or a 32×32 block) each, with an access pattern whose Nsight Compute figures are known by hand
// (tests/sim/test_trace.cpp). Pointers are device pointers (cudaMalloc).
#pragma once
#include <cstdint>

namespace coopgen::simtest {

// One warp, 4 rounds: out[32k + lane] = in[32k + lane], k = 0..3 (n = 128).
void trace_copy(float* out, const float* in);
// One warp: out[lane] = in[32·lane] (in holds 1024 floats).
void trace_strided(float* out, const float* in);
// One warp: out[lane] = in[0].
void trace_broadcast(float* out, const float* in);
// One warp: out[lane] = 2·in[lane] as float4 (32 float4 each).
void trace_float4(float* out, const float* in);
// One 32×32 block: out = inᵀ (32×32) through a shared tile, padded to 33 columns or not.
void trace_transpose(float* out, const float* in, bool padded);
// One warp: ldmatrix.x4 from a 32×64 bf16 shared tile filled from `in` (2048 values), rows at
// column 0 or at the swizzled 16-byte chunk row % 8; out[4·lane + m] = register m.
void trace_ldmatrix(uint32_t* out, const uint16_t* in, bool swizzled);
// One warp: only the even lanes copy, out[lane] = in[lane].
void trace_half_warp(float* out, const float* in);

}  // namespace coopgen::simtest
