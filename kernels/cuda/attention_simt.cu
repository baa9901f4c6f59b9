// Attention on the SIMT cores in f32 arithmetic, any head dimension up to 128 (math in
// kernels/cpu/attention.h; the family's place among the others: attention_family.cuh).
// Forward: a block of 4 warps takes 16 queries of one (b, h), a warp 4 of them. Per tile of 32
// keys, K and V are staged in shared memory (rows padded to d+1 floats: lane j reading row j hits
// distinct banks); lane j scores key j for each of its warp's queries, the warp keeps each
// query's running max m and sum l (online softmax: earlier terms rescaled by e^(m_old − m_new)),
// and lane c accumulates output dims c, c+32, c+64, c+96. Keys past the causal horizon of the
// block's last query are not loaded. Traffic: Q, O once; K, V once per 16 queries; FLOPs
// 4·Tq·Tk·d per (b, h), halved by the causal horizon.
// Backward (after D_i = dO_i·O_i, attention.cu), FlashAttention-2's order: a block of 4 warps owns
// 32 keys, their dK and dV in registers, and walks the tiles of 16 queries that can see them,
// recomputing p_ij = e^(s_ij − lse_i) from the saved log-sum-exp (comment at the kernel). Traffic:
// K, V, dK, dV once; Q, dO once per key tile; dQ one atomic per query, dim and key tile. Shared
// memory 54 kB at d = 128 (opted in beyond 48 kB), 29 kB at d = 64.
#include <cmath>

#include "kernels/cuda/attention_family.cuh"

namespace coopgen::cuda::attention_family {

namespace {

constexpr int kQueries = 16, kRowsPerWarp = 4, kKeys = 32, kDimSlots = kMaxDim / 32;
constexpr int kBwdQueries = 16, kBwdThreads = 128;  // backward: queries per tile, threads per block

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

// Backward in FlashAttention-2's order: a block owns kKeys keys (their dK, dV in registers, K and V
// in shared memory) and walks the tiles of kBwdQueries queries that can see them. Per tile, with Q
// and dO staged: (1) lane j of warp w scores key j against queries w, w + 4, …: p_ij from the saved
// log-sum-exp, dS_ij = p_ij·(dP_ij − D_i)·scale, both to shared memory; (2) the thread of key j and
// warp w adds Σ_i p_ij·dO_i and Σ_i dS_ij·Q_i to dims w, w + 4, … of dV_j and dK_j; (3) dQ_i gets
// Σ_j dS_ij·K_j, one atomic per query and dim per block (the blocks of other keys add theirs).
template <class E>
__global__ void __launch_bounds__(kBwdThreads)
    attention_backward_kernel(float* dq, E* dk, E* dv, const E* q, const E* k, const E* v, const E* dout,
                              const float* lse, const float* delta, const float* keymask, AttentionParams s,
                              float scale) {
  constexpr int kWarps = kBwdThreads / 32, kSlots = kMaxDim / kWarps, PS = kKeys + 1;
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  float *ks = smem, *vs = ks + kKeys * stride, *qs = vs + kKeys * stride, *dos = qs + kBwdQueries * stride;
  float *ps = dos + kBwdQueries * stride, *dss = ps + kBwdQueries * PS, *stats = dss + kBwdQueries * PS;
  const int64_t bh = head_row(), k0 = int64_t(blockIdx.x) * kKeys;
  const E *kb = k + bh * s.tk * dim, *vb = v + bh * s.tk * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = int(threadIdx.x); x < kKeys * dim; x += kBwdThreads) {
    const int r = x / dim, c = x % dim;
    const int64_t j = k0 + r;
    ks[r * stride + c] = j < s.tk ? to_f32(kb[j * dim + c]) : 0.0f;
    vs[r * stride + c] = j < s.tk ? to_f32(vb[j * dim + c]) : 0.0f;
  }
  float dk_acc[kSlots], dv_acc[kSlots];  // dims warp + kWarps·m of key k0 + lane
  COOPGEN_UNROLL
  for (int m = 0; m < kSlots; ++m) dk_acc[m] = 0.0f, dv_acc[m] = 0.0f;
  // Queries that can see a key of this block: causal ones from i = k0 − (tk − tq) on.
  const int64_t first = s.causal && k0 - (s.tk - s.tq) > 0 ? k0 - (s.tk - s.tq) : 0;
  for (int64_t q0 = first; q0 < s.tq; q0 += kBwdQueries) {
    __syncthreads();  // the previous tile is no longer read
    for (int x = int(threadIdx.x); x < kBwdQueries * dim; x += kBwdThreads) {
      const int r = x / dim, c = x % dim;
      const int64_t row = bh * s.tq + q0 + r;
      const bool in = q0 + r < s.tq;
      qs[r * stride + c] = in ? to_f32(q[row * dim + c]) : 0.0f;
      dos[r * stride + c] = in ? to_f32(dout[row * dim + c]) : 0.0f;
    }
    for (int r = int(threadIdx.x); r < kBwdQueries; r += kBwdThreads) {
      const bool in = q0 + r < s.tq;
      stats[r] = in ? lse[bh * s.tq + q0 + r] : -INFINITY;
      stats[kBwdQueries + r] = in ? delta[bh * s.tq + q0 + r] : 0.0f;
    }
    __syncthreads();
    const int64_t j = k0 + lane;
    for (int r = warp; r < kBwdQueries; r += kWarps) {  // (1)
      const int64_t i = q0 + r;
      float p = 0.0f, ds = 0.0f;
      if (stats[r] != -INFINITY && i < s.tq && visible(mb, j, i, s)) {
        float dot = 0.0f, dp = 0.0f;
        for (int c = 0; c < dim; ++c) dot += qs[r * stride + c] * ks[lane * stride + c], dp += dos[r * stride + c] * vs[lane * stride + c];
        p = expf(dot * scale - stats[r]);
        ds = p * (dp - stats[kBwdQueries + r]) * scale;
      }
      ps[r * PS + lane] = p, dss[r * PS + lane] = ds;
    }
    __syncthreads();
    for (int r = 0; r < kBwdQueries; ++r) {  // (2)
      const float p = ps[r * PS + lane], ds = dss[r * PS + lane];
      COOPGEN_UNROLL
      for (int m = 0; m < kSlots; ++m) {
        const int c = warp + kWarps * m;
        if (c < dim) dv_acc[m] += p * dos[r * stride + c], dk_acc[m] += ds * qs[r * stride + c];
      }
    }
    for (int r = warp; r < kBwdQueries && q0 + r < s.tq; r += kWarps)  // (3)
      for (int c = lane; c < dim; c += 32) {
        float acc = 0.0f;
        for (int jj = 0; jj < kKeys; ++jj) acc += dss[r * PS + jj] * ks[jj * stride + c];
        atomicAdd(&dq[(bh * s.tq + q0 + r) * dim + c], acc);
      }
  }
  // dK, dV out through shared memory (K and V are read no more): the thread of key j holds dims
  // w, w + 4, … of row j, so writing from registers would put each lane in a row of its own (a
  // sector per lane); staged, a warp writes 32 consecutive elements of a row.
  __syncthreads();
  COOPGEN_UNROLL
  for (int m = 0; m < kSlots; ++m) {
    const int c = warp + kWarps * m;
    if (c < dim) ks[lane * stride + c] = dk_acc[m], vs[lane * stride + c] = dv_acc[m];
  }
  __syncthreads();
  for (int r = warp; r < kKeys && k0 + r < s.tk; r += kWarps)
    for (int c = lane; c < dim; c += 32) {
      const int64_t at = (bh * s.tk + k0 + r) * dim + c;
      dk[at] = from_f32<E>(ks[r * stride + c]), dv[at] = from_f32<E>(vs[r * stride + c]);
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
  const dim3 grid = head_grid((s.tk + kKeys - 1) / kKeys, s);
  const size_t smem =
      size_t((kKeys + kBwdQueries) * 2 * (s.dim + 1) + kBwdQueries * 2 * (kKeys + 1) + 2 * kBwdQueries) * sizeof(float);
  launch("attention_backward", attention_backward_kernel<E>, grid, dim3(kBwdThreads), smem, st, dq, dk, dv, q, k, v,
         dout, lse, delta, keymask, s, float(1.0 / std::sqrt(double(s.dim))));
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
