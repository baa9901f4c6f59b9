// Attention on the SIMT cores in f32 arithmetic, any head dimension up to 128 (math in
// kernels/cpu/attention.h; the family's place among the others: attention_family.cuh).
// Forward: a block of 4 warps takes 16 queries of one (b, h), a warp 4 of them. Per tile of 32
// keys, K and V are staged in shared memory (rows padded to d+1 floats: lane j reading row j hits
// distinct banks); lane j scores key j for each of its warp's queries, the warp keeps each
// query's running max m and sum l (online softmax: earlier terms rescaled by e^(m_old − m_new)),
// and lane c accumulates output dims c, c+32, c+64, c+96. Keys past the causal horizon of the
// block's last query are not loaded. Traffic: Q, O once; K, V once per 16 queries; FLOPs
// 4·Tq·Tk·d per (b, h), halved by the causal horizon.
// Backward (after D_i = dO_i·O_i, attention.cu): one warp per tile of 32 keys (16 when d > 64, to
// fit 48 kB of shared memory) walks every query that can see the tile: lane j recomputes
// p_ij = e^(s_ij − lse_i) from the saved log-sum-exp, accumulates dV_j and dK_j in shared memory
// (its own row), and the warp adds its share of dQ_i with one atomic per dim. Traffic: K, V, dK,
// dV once; Q, dO once per key tile.
#include <cmath>

#include "kernels/cuda/attention_family.cuh"

namespace coopgen::cuda::attention_family {

namespace {

constexpr int kQueries = 16, kRowsPerWarp = 4, kKeys = 32, kDimSlots = kMaxDim / 32;

template <class E>
__global__ void __launch_bounds__(32 * kQueries / kRowsPerWarp)
    attention_forward_kernel(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask,
                             AttentionParams s, float scale) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  float *ks = smem, *vs = ks + kKeys * stride, *qs = vs + kKeys * stride;  // qs: kQueries × dim
  const int64_t bh = head_row(), q0 = int64_t(blockIdx.x) * kQueries;
  const E *qb = q + bh * s.tq * dim, *kb = k + bh * s.kv_rows * dim, *vb = v + bh * s.kv_rows * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = int(threadIdx.x); x < kQueries * dim; x += int(blockDim.x)) {
    const int64_t i = q0 + x / dim;
    qs[x] = i < s.tq ? to_f32(qb[i * dim + x % dim]) : 0.0f;
  }
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kDimSlots];
  COOPGEN_UNROLL
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY, l[r] = 0.0f;
    for (int c = 0; c < kDimSlots; ++c) acc[r][c] = 0.0f;
  }
  const int64_t key_end = keys_seen(q0, kQueries, s);
  for (int64_t k0 = 0; k0 < key_end; k0 += kKeys) {
    __syncthreads();  // everyone is done with the previous tile
    for (int x = int(threadIdx.x); x < kKeys * dim; x += int(blockDim.x)) {
      const int r = x / dim, c = x % dim;
      const int64_t j = k0 + r;
      ks[r * stride + c] = j < s.tk ? to_f32(kb[j * dim + c]) : 0.0f;
      vs[r * stride + c] = j < s.tk ? to_f32(vb[j * dim + c]) : 0.0f;
    }
    __syncthreads();
    COOPGEN_UNROLL  // m, l and acc stay in registers
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
  COOPGEN_UNROLL
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int64_t i = q0 + warp * kRowsPerWarp + r;
    if (i >= s.tq) continue;
    const int64_t row = bh * s.tq + i;
    for (int c = 0; c < kDimSlots; ++c)
      if (lane + 32 * c < dim) o[row * dim + lane + 32 * c] = from_f32<E>(l[r] > 0.0f ? acc[r][c] / l[r] : 0.0f);
    if (lane == 0) lse[row] = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
  }
}

template <class E>
__global__ void attention_backward_kernel(float* dq, E* dk, E* dv, const E* q, const E* k, const E* v, const E* dout,
                                          const float* lse, const float* delta,
                                          const float* keymask, AttentionParams s, float scale, int keys) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x);
  float *ks = smem, *vs = ks + keys * stride, *dks = vs + keys * stride, *dvs = dks + keys * stride;
  float *qi = dvs + keys * stride, *doi = qi + dim;
  const int64_t bh = head_row(), k0 = int64_t(blockIdx.x) * keys;
  const E *kb = k + bh * s.tk * dim, *vb = v + bh * s.tk * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = lane; x < keys * dim; x += 32) {
    const int r = x / dim, c = x % dim;
    const int64_t j = k0 + r;
    ks[r * stride + c] = j < s.tk ? to_f32(kb[j * dim + c]) : 0.0f;
    vs[r * stride + c] = j < s.tk ? to_f32(vb[j * dim + c]) : 0.0f;
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
    for (int c = lane; c < dim; c += 32) qi[c] = to_f32(q[row * dim + c]), doi[c] = to_f32(dout[row * dim + c]);
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
    if (j < s.tk)
      dk[(bh * s.tk + j) * dim + c] = from_f32<E>(dks[r * stride + c]), dv[(bh * s.tk + j) * dim + c] = from_f32<E>(dvs[r * stride + c]);
  }
}

}  // namespace

template <class E>
void forward_simt(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask, const AttentionParams& s,
                  cudaStream_t st) {
  const dim3 grid = head_grid((s.tq + kQueries - 1) / kQueries, s);
  const size_t smem = size_t(2 * kKeys * (s.dim + 1) + kQueries * s.dim) * sizeof(float);
  launch("attention_forward", attention_forward_kernel<E>, grid, dim3(32 * kQueries / kRowsPerWarp), smem, st, o, lse,
         q, k, v, keymask, s, float(1.0 / std::sqrt(double(s.dim))));
}

template <class E>
void backward_simt(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v, const E* dout,
                   const float* lse, const float* keymask, const AttentionParams& s, cudaStream_t st) {
  const int keys = s.dim > 64 ? kKeys / 2 : kKeys;
  const dim3 grid = head_grid((s.tk + keys - 1) / keys, s);
  const size_t smem = size_t(4 * keys * (s.dim + 1) + 2 * s.dim) * sizeof(float);
  launch("attention_backward", attention_backward_kernel<E>, grid, dim3(32), smem, st, dq, dk, dv, q, k, v, dout, lse,
         delta, keymask, s, float(1.0 / std::sqrt(double(s.dim))), keys);
}

template void forward_simt<float>(float*, float*, const float*, const float*, const float*, const float*, const AttentionParams&,
                                   cudaStream_t);
template void backward_simt<float>(float*, float*, float*, const float*, const float*, const float*, const float*, const float*,
                                    const float*, const float*, const AttentionParams&, cudaStream_t);
template void forward_simt<bf16_t>(bf16_t*, float*, const bf16_t*, const bf16_t*, const bf16_t*, const float*, const AttentionParams&,
                                   cudaStream_t);
template void backward_simt<bf16_t>(float*, bf16_t*, bf16_t*, const float*, const bf16_t*, const bf16_t*, const bf16_t*, const bf16_t*,
                                    const float*, const float*, const AttentionParams&, cudaStream_t);

}  // namespace coopgen::cuda::attention_family
