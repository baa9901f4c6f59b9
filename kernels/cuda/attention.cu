// Attention without the Tq×Tk matrix (math in kernels/cpu/attention.h), flash-style in f32 on the
// SIMT cores; the bf16 tensor-core version comes with bf16 activations.
// Forward: a block of 4 warps takes 16 queries of one (b, h), a warp 4 of them. Per tile of 32
// keys, K and V are staged in shared memory (rows padded to d+1 floats: lane j reading row j hits
// distinct banks); lane j scores key j for each of its warp's queries, the warp keeps each
// query's running max m and sum l (online softmax: earlier terms rescaled by e^(m_old − m_new)),
// and lane c accumulates output dims c, c+32, c+64, c+96. Keys past the causal horizon of the
// block's last query are not loaded. Traffic: Q, O once; K, V once per 16 queries.
// Backward: D_i = dO_i·O_i first (a warp per row). Then one warp per tile of 32 keys (16 when
// d > 64, to fit 48 kB of shared memory) walks every query that can see the tile: lane j
// recomputes p_ij = e^(s_ij − lse_i) from the saved log-sum-exp, accumulates dV_j and dK_j in
// shared memory (its own row), and the warp adds its share of dQ_i with one atomic per dim.
#include "kernels/cuda/attention.cuh"

#include <cmath>

#include "kernels/cuda/common.cuh"

namespace coopgen::cuda {

namespace {

constexpr int kQueries = 16, kRowsPerWarp = 4, kKeys = 32, kMaxDim = 128, kDimSlots = kMaxDim / 32;

__device__ __forceinline__ bool visible(const float* keymask, int64_t j, int64_t i, const cpu::AttentionShape& s) {
  return j < s.tk && (!keymask || keymask[j] != 0.0f) && !(s.causal && j > i + s.tk - s.tq);
}

__global__ void attention_forward_kernel(float* o, float* lse, const float* q, const float* k, const float* v,
                                         const float* keymask, cpu::AttentionShape s, float scale) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  float *ks = smem, *vs = ks + kKeys * stride, *qs = vs + kKeys * stride;  // qs: kQueries × dim
  const int64_t bh = blockIdx.y, q0 = int64_t(blockIdx.x) * kQueries;
  const float *qb = q + bh * s.tq * dim, *kb = k + bh * s.tk * dim, *vb = v + bh * s.tk * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = int(threadIdx.x); x < kQueries * dim; x += int(blockDim.x)) {
    const int64_t i = q0 + x / dim;
    qs[x] = i < s.tq ? qb[i * dim + x % dim] : 0.0f;
  }
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kDimSlots];
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY, l[r] = 0.0f;
    for (int c = 0; c < kDimSlots; ++c) acc[r][c] = 0.0f;
  }
  const int64_t last = (q0 + kQueries < s.tq ? q0 + kQueries : s.tq) - 1;
  const int64_t key_end = s.causal && last + s.tk - s.tq + 1 < s.tk ? last + s.tk - s.tq + 1 : s.tk;
  for (int64_t k0 = 0; k0 < key_end; k0 += kKeys) {
    __syncthreads();  // everyone is done with the previous tile
    for (int x = int(threadIdx.x); x < kKeys * dim; x += int(blockDim.x)) {
      const int r = x / dim, c = x % dim;
      const int64_t j = k0 + r;
      ks[r * stride + c] = j < s.tk ? kb[j * dim + c] : 0.0f;
      vs[r * stride + c] = j < s.tk ? vb[j * dim + c] : 0.0f;
    }
    __syncthreads();
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t i = q0 + warp * kRowsPerWarp + r;
      const float* qi = qs + (warp * kRowsPerWarp + r) * dim;
      float sc = -INFINITY;
      if (i < s.tq && visible(mb, k0 + lane, i, s)) {
        float dot = 0.0f;
        for (int c = 0; c < dim; ++c) dot += qi[c] * ks[lane * stride + c];
        sc = dot * scale;
      }
      const float m_new = fmaxf(m[r], warp_max(sc));
      if (m_new == -INFINITY) continue;  // warp-uniform: no visible key yet
      const float p = sc == -INFINITY ? 0.0f : expf(sc - m_new), corr = expf(m[r] - m_new);
      l[r] = l[r] * corr + warp_sum(p);
      for (int c = 0; c < kDimSlots; ++c) acc[r][c] *= corr;
      for (int jj = 0; jj < kKeys; ++jj) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
        for (int c = 0; c < kDimSlots; ++c)
          if (lane + 32 * c < dim) acc[r][c] += pj * vs[jj * stride + lane + 32 * c];
      }
      m[r] = m_new;
    }
  }
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int64_t i = q0 + warp * kRowsPerWarp + r;
    if (i >= s.tq) continue;
    const int64_t row = bh * s.tq + i;
    for (int c = 0; c < kDimSlots; ++c)
      if (lane + 32 * c < dim) o[row * dim + lane + 32 * c] = l[r] > 0.0f ? acc[r][c] / l[r] : 0.0f;
    if (lane == 0) lse[row] = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
  }
}

// D_i = Σ_c dO_ic·O_ic, a warp per row.
__global__ void attention_delta_kernel(float* delta, const float* o, const float* dout, int64_t rows, int dim) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  float acc = 0.0f;
  for (int c = int(threadIdx.x % 32); c < dim; c += 32) acc += dout[row * dim + c] * o[row * dim + c];
  acc = warp_sum(acc);
  if (threadIdx.x % 32 == 0) delta[row] = acc;
}

__global__ void attention_backward_kernel(float* dq, float* dk, float* dv, const float* q, const float* k,
                                          const float* v, const float* dout, const float* lse, const float* delta,
                                          const float* keymask, cpu::AttentionShape s, float scale, int keys) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x);
  float *ks = smem, *vs = ks + keys * stride, *dks = vs + keys * stride, *dvs = dks + keys * stride;
  float *qi = dvs + keys * stride, *doi = qi + dim;
  const int64_t bh = blockIdx.y, k0 = int64_t(blockIdx.x) * keys;
  const float *kb = k + bh * s.tk * dim, *vb = v + bh * s.tk * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = lane; x < keys * dim; x += 32) {
    const int r = x / dim, c = x % dim;
    const int64_t j = k0 + r;
    ks[r * stride + c] = j < s.tk ? kb[j * dim + c] : 0.0f;
    vs[r * stride + c] = j < s.tk ? vb[j * dim + c] : 0.0f;
    dks[r * stride + c] = 0.0f;
    dvs[r * stride + c] = 0.0f;
  }
  // Queries that can see a key of this tile: causal ones from i = k0 − (tk − tq) on.
  const int64_t first = s.causal && k0 - (s.tk - s.tq) > 0 ? k0 - (s.tk - s.tq) : 0;
  for (int64_t i = first; i < s.tq; ++i) {
    const int64_t row = bh * s.tq + i;
    const float lse_i = lse[row];
    if (lse_i == -INFINITY) continue;  // every key masked: no gradient (warp-uniform)
    __syncwarp();
    for (int c = lane; c < dim; c += 32) qi[c] = q[row * dim + c], doi[c] = dout[row * dim + c];
    __syncwarp();
    const int64_t j = k0 + lane;
    float p = 0.0f, ds = 0.0f;
    if (lane < keys && visible(mb, j, i, s)) {
      float dot = 0.0f, dp = 0.0f;
      for (int c = 0; c < dim; ++c) dot += qi[c] * ks[lane * stride + c], dp += doi[c] * vs[lane * stride + c];
      p = expf(dot * scale - lse_i);
      ds = p * (dp - delta[row]) * scale;
      for (int c = 0; c < dim; ++c) dvs[lane * stride + c] += p * doi[c], dks[lane * stride + c] += ds * qi[c];
    }
    if (!__any_sync(0xffffffffu, ds != 0.0f)) continue;
    for (int c0 = 0; c0 < dim; c0 += 32) {  // every lane shuffles; lane c0 + lane < dim adds its dim
      const int c = c0 + lane;
      float acc = 0.0f;
      for (int jj = 0; jj < keys; ++jj) {
        const float dsj = __shfl_sync(0xffffffffu, ds, jj);
        if (c < dim) acc += dsj * ks[jj * stride + c];
      }
      if (c < dim) atomicAdd(&dq[row * dim + c], acc);
    }
  }
  __syncwarp();
  for (int x = lane; x < keys * dim; x += 32) {
    const int r = x / dim, c = x % dim;
    const int64_t j = k0 + r;
    if (j < s.tk) dk[(bh * s.tk + j) * dim + c] = dks[r * stride + c], dv[(bh * s.tk + j) * dim + c] = dvs[r * stride + c];
  }
}

}  // namespace

void attention_forward(float* o, float* lse, const float* q, const float* k, const float* v, const float* keymask,
                       const cpu::AttentionShape& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  if (s.tq == 0 || s.batch * s.heads == 0) return;
  const dim3 grid(unsigned((s.tq + kQueries - 1) / kQueries), unsigned(s.batch * s.heads));
  const size_t smem = size_t(2 * kKeys * (s.dim + 1) + kQueries * s.dim) * sizeof(float);
  launch("attention_forward", attention_forward_kernel, grid, dim3(32 * kQueries / kRowsPerWarp), smem, st, o, lse, q,
         k, v, keymask, s, float(1.0 / std::sqrt(double(s.dim))));
}

void attention_backward(float* dq, float* dk, float* dv, float* delta, const float* q, const float* k, const float* v,
                        const float* o, const float* lse, const float* dout, const float* keymask,
                        const cpu::AttentionShape& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  const int64_t rows = s.batch * s.heads * s.tq;
  if (rows && cudaMemsetAsync(dq, 0, size_t(rows * s.dim) * sizeof(float), st) != cudaSuccess)
    fail("cuda attention: clearing dq failed");
  if (s.tk == 0 || s.batch * s.heads == 0) return;
  if (rows) launch("attention_delta", attention_delta_kernel, grid_for(rows * 32), kBlock, 0, st, delta, o, dout, rows, int(s.dim));
  const int keys = s.dim > 64 ? kKeys / 2 : kKeys;
  const dim3 grid(unsigned((s.tk + keys - 1) / keys), unsigned(s.batch * s.heads));
  const size_t smem = size_t(4 * keys * (s.dim + 1) + 2 * s.dim) * sizeof(float);
  launch("attention_backward", attention_backward_kernel, grid, dim3(32), smem, st, dq, dk, dv, q, k, v, dout, lse, delta,
         keymask, s, float(1.0 / std::sqrt(double(s.dim))), keys);
}

}  // namespace coopgen::cuda
