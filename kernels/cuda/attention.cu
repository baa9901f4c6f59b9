// Attention without the Tq×Tk matrix (math in kernels/cpu/attention.h), flash-style in f32 on the
// SIMT cores; the bf16 tensor-core version comes with bf16 activations.
// Forward, bf16 tensor cores (head dims 64 and 128, when the engine's precision is bf16): a block
// of 4 warps takes 64 queries, a warp 16; Q, K and Vᵀ are staged in shared memory as bf16 (rows
// padded by 8 so the fragment loads spread over the banks), S = Q·Kᵀ and O += P·V are m16n8k16
// mma.sync with f32 accumulators, and P goes from S's accumulator registers straight into the A
// fragments of P·V (the layouts line up; FlashAttention-2's trick). Key tiles of 64 (32 at d=128,
// to stay under 48 kB). FLOPs 4·Tq·Tk·d per (b, h), halved by the causal horizon.
// Forward, f32: a block of 4 warps takes 16 queries of one (b, h), a warp 4 of them. Per tile of 32
// keys, K and V are staged in shared memory (rows padded to d+1 floats: lane j reading row j hits
// distinct banks); lane j scores key j for each of its warp's queries, the warp keeps each
// query's running max m and sum l (online softmax: earlier terms rescaled by e^(m_old − m_new)),
// and lane c accumulates output dims c, c+32, c+64, c+96. Keys past the causal horizon of the
// block's last query are not loaded. Traffic: Q, O once; K, V once per 16 queries.
// Decode (one query per head, the sampling step over a KV cache, read in place): split-K as in
// Flash-Decoding. The Tk keys of each (b, h) are cut into splits so that the grid fills the GPU
// even for one sequence; a block of 128 threads takes a split: thread t scores keys t, t+128, …
// (their rows from global memory, q from shared memory), the block reduces the split's max m and
// sum l, then threads (c, g) accumulate output dim c over key group g (coalesced rows of V) and
// the groups are summed in shared memory. With one split it writes o and lse; else each split
// writes (o·l unnormalised, m, l) and a second kernel merges them: M = max m_s,
// L = Σ l_s e^(m_s − M), o = Σ o_s e^(m_s − M) / L, lse = M + log L. Traffic: K and V once.
// Backward: D_i = dO_i·O_i first (a warp per row). Then one warp per tile of 32 keys (16 when
// d > 64, to fit 48 kB of shared memory) walks every query that can see the tile: lane j
// recomputes p_ij = e^(s_ij − lse_i) from the saved log-sum-exp, accumulates dV_j and dK_j in
// shared memory (its own row), and the warp adds its share of dQ_i with one atomic per dim.
#include "kernels/cuda/attention.cuh"

#include <cmath>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ptx.cuh"

namespace coopgen::cuda {

namespace {

constexpr int kQueries = 16, kRowsPerWarp = 4, kKeys = 32, kMaxDim = 128, kDimSlots = kMaxDim / 32;

__device__ __forceinline__ bool visible(const float* keymask, int64_t j, int64_t i, const AttentionParams& s) {
  return j < s.tk && (!keymask || keymask[j] != 0.0f) && !(s.causal && j > i + s.tk - s.tq);
}

// How many keys the queries q0 … q0 + rows − 1 can see: all, or up to the causal horizon of the last.
__device__ __forceinline__ int64_t keys_seen(int64_t q0, int64_t rows, const AttentionParams& s) {
  const int64_t last = (q0 + rows < s.tq ? q0 + rows : s.tq) - 1, horizon = last + s.tk - s.tq + 1;
  return s.causal && horizon < s.tk ? horizon : s.tk;
}

template <class E>
__global__ void attention_forward_kernel(E* o, float* lse, const E* q, const E* k, const E* v,
                                         const float* keymask, AttentionParams s, float scale) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
  float *ks = smem, *vs = ks + kKeys * stride, *qs = vs + kKeys * stride;  // qs: kQueries × dim
  const int64_t bh = blockIdx.y, q0 = int64_t(blockIdx.x) * kQueries;
  const E *qb = q + bh * s.tq * dim, *kb = k + bh * s.kv_rows * dim, *vb = v + bh * s.kv_rows * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = int(threadIdx.x); x < kQueries * dim; x += int(blockDim.x)) {
    const int64_t i = q0 + x / dim;
    qs[x] = i < s.tq ? to_f32(qb[i * dim + x % dim]) : 0.0f;
  }
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kDimSlots];
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
      if (lane + 32 * c < dim) o[row * dim + lane + 32 * c] = from_f32<E>(l[r] > 0.0f ? acc[r][c] / l[r] : 0.0f);
    if (lane == 0) lse[row] = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
  }
}

// Round to nearest even, as __float2bfloat16_rn does (no NaN inputs here), and pack two.
__device__ __forceinline__ uint32_t bf16_bits(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) { return bf16_bits(lo) | (bf16_bits(hi) << 16); }
__device__ __forceinline__ uint32_t load_pair(const uint16_t* p) { return *reinterpret_cast<const uint32_t*>(p); }
// The operands of mma_m16n8k16_bf16 (layouts in ptx.cuh) from bf16 tiles in shared memory, rows
// `stride` elements apart, t = lane % 4: A's 16×16 block at rows row and row + 8 from column col;
// B's 16×8 block from a tile holding Bᵀ (its column n is tile row n), with row = n0 + lane / 4.
__device__ __forceinline__ void fragment_a(uint32_t (&a)[4], const uint16_t* tile, int stride, int row, int col, int t) {
  const uint16_t* p = tile + row * stride + col + 2 * t;
  a[0] = load_pair(p), a[1] = load_pair(p + 8 * stride), a[2] = load_pair(p + 8), a[3] = load_pair(p + 8 * stride + 8);
}
__device__ __forceinline__ void fragment_b(uint32_t (&b)[2], const uint16_t* tile, int stride, int row, int col, int t) {
  const uint16_t* p = tile + row * stride + col + 2 * t;
  b[0] = load_pair(p), b[1] = load_pair(p + 8);
}

template <class E, int D, int KT>
__global__ void attention_forward_mma_kernel(E* o, float* lse, const E* q, const E* k, const E* v,
                                             const float* keymask, AttentionParams s, float scale) {
  constexpr int QT = 64, QS = D + 8, KS = D + 8, VS = KT + 8;  // tile rows; row strides in bf16 elements
  COOPGEN_DYNAMIC_SHARED(uint16_t, smem_bf16);  // (one name per element type: nvcc's extern arrays alias)
  uint16_t *qs = smem_bf16, *ks = qs + QT * QS, *vt = ks + KT * KS;  // Q [QT][D], K [KT][D], Vᵀ [D][KT]
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32), g = lane / 4, t = lane % 4;
  const int64_t bh = blockIdx.y, q0 = int64_t(blockIdx.x) * QT;
  const E *qb = q + bh * s.tq * D, *kb = k + bh * s.kv_rows * D, *vb = v + bh * s.kv_rows * D;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int x = int(threadIdx.x); x < QT * D; x += int(blockDim.x)) {
    const int64_t i = q0 + x / D;
    qs[(x / D) * QS + x % D] = uint16_t(bf16_bits(i < s.tq ? to_f32(qb[i * D + x % D]) : 0.0f));
  }
  __syncthreads();
  const int r0 = warp * 16 + g;  // this thread's rows of the tile: r0 and r0 + 8
  uint32_t qa[D / 16][4];
  for (int kk = 0; kk < D / 16; ++kk) fragment_a(qa[kk], qs, QS, r0, 16 * kk, t);
  const int64_t rows[2] = {q0 + r0, q0 + r0 + 8};
  float acc[D / 8][4] = {}, m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  const int64_t key_end = keys_seen(q0, QT, s);
  for (int64_t k0 = 0; k0 < key_end; k0 += KT) {
    __syncthreads();  // everyone is done with the previous tile
    for (int x = int(threadIdx.x); x < KT * D; x += int(blockDim.x)) {
      const int r = x / D, c = x % D;
      const int64_t j = k0 + r;
      ks[r * KS + c] = uint16_t(bf16_bits(j < s.tk ? to_f32(kb[j * D + c]) : 0.0f));
      vt[c * VS + r] = uint16_t(bf16_bits(j < s.tk ? to_f32(vb[j * D + c]) : 0.0f));
    }
    __syncthreads();
    float sc[KT / 8][4];
    for (int nt = 0; nt < KT / 8; ++nt) {
      for (int e = 0; e < 4; ++e) sc[nt][e] = 0.0f;
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t b[2];
        fragment_b(b, ks, KS, 8 * nt + g, 16 * kk, t);
        mma_m16n8k16_bf16(sc[nt], qa[kk], b, sc[nt]);
      }
    }
    // Mask and scale; element e of n-tile nt is row rows[e / 2], key k0 + 8·nt + 2t + e % 2.
    float tile_max[2] = {-INFINITY, -INFINITY};
    for (int nt = 0; nt < KT / 8; ++nt)
      for (int e = 0; e < 4; ++e) {
        const int64_t i = rows[e / 2], j = k0 + 8 * nt + 2 * t + e % 2;
        sc[nt][e] = i < s.tq && visible(mb, j, i, s) ? sc[nt][e] * scale : -INFINITY;
        tile_max[e / 2] = fmaxf(tile_max[e / 2], sc[nt][e]);
      }
    float corr[2];
    for (int h = 0; h < 2; ++h) {  // the quad (lanes 4g … 4g+3) holds a row: reduce over it
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
      const float m_new = fmaxf(m[h], tile_max[h]);
      corr[h] = m[h] == -INFINITY ? 0.0f : expf(m[h] - m_new);
      m[h] = m_new;
    }
    float row_sum[2] = {0.0f, 0.0f};
    for (int nt = 0; nt < KT / 8; ++nt)
      for (int e = 0; e < 4; ++e) {
        sc[nt][e] = sc[nt][e] == -INFINITY ? 0.0f : expf(sc[nt][e] - m[e / 2]);
        row_sum[e / 2] += sc[nt][e];
      }
    for (int h = 0; h < 2; ++h) {
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 1);
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 2);
      l[h] = l[h] * corr[h] + row_sum[h];
    }
    for (int nd = 0; nd < D / 8; ++nd)
      for (int e = 0; e < 4; ++e) acc[nd][e] *= corr[e / 2];
    for (int kk = 0; kk < KT / 16; ++kk) {
      const uint32_t pa[4] = {pack_bf16(sc[2 * kk][0], sc[2 * kk][1]), pack_bf16(sc[2 * kk][2], sc[2 * kk][3]),
                              pack_bf16(sc[2 * kk + 1][0], sc[2 * kk + 1][1]), pack_bf16(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
      for (int nd = 0; nd < D / 8; ++nd) {
        uint32_t b[2];
        fragment_b(b, vt, VS, 8 * nd + g, 16 * kk, t);
        mma_m16n8k16_bf16(acc[nd], pa, b, acc[nd]);
      }
    }
  }
  for (int h = 0; h < 2; ++h) {
    const int64_t i = rows[h];
    if (i >= s.tq) continue;
    const int64_t row = bh * s.tq + i;
    for (int nd = 0; nd < D / 8; ++nd)
      for (int e = 0; e < 2; ++e)
        o[row * D + 8 * nd + 2 * t + e] = from_f32<E>(l[h] > 0.0f ? acc[nd][2 * h + e] / l[h] : 0.0f);
    if (t == 0) lse[row] = l[h] > 0.0f ? m[h] + logf(l[h]) : -INFINITY;
  }
}

template <int D, int KT, class E>
void launch_forward_mma(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask,
                        const AttentionParams& s, cudaStream_t st) {
  const dim3 grid(unsigned((s.tq + 63) / 64), unsigned(s.batch * s.heads));
  const size_t smem = size_t(64 * (D + 8) + KT * (D + 8) + D * (KT + 8)) * sizeof(uint16_t);
  launch("attention_forward_mma", attention_forward_mma_kernel<E, D, KT>, grid, dim3(128), smem, st, o, lse, q, k, v,
         keymask, s, float(1.0 / std::sqrt(double(D))));
}

// Backward, bf16 tensor cores: a block of 4 warps owns 64 keys (a warp 16), its K and V rows as
// A fragments in registers and Kᵀ in shared memory; it walks the 64-query tiles that can see its
// keys. Per tile, with Q, dO and their transposes staged as bf16: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ
// (mma), Pᵀ = e^(scale·Sᵀ − lse), dSᵀ = Pᵀ∘(dPᵀ − D); then dV += Pᵀ·dO and dK += dSᵀ·Q with the
// probabilities straight from the accumulators, and dS goes through shared memory for
// dQ += dS·K, added to global memory with one atomic per element and key block.
template <class E, int D>
__global__ void attention_backward_mma_kernel(float* dq, E* dk, E* dv, const E* q, const E* k, const E* v,
                                              const E* dout, const float* lse, const float* delta,
                                              const float* keymask, AttentionParams s, float scale) {
  constexpr int T = 64, RS = D + 8, CS = T + 8;  // tile (keys, queries); strides of [T][D] and [D][T] arrays
  COOPGEN_DYNAMIC_SHARED(uint16_t, smem_bwd);
  uint16_t *kt = smem_bwd, *qs = kt + D * CS, *qt = qs + T * RS, *ds_ = qt + D * CS, *dos = ds_ + T * CS,
           *dot = dos + T * RS;  // Kᵀ, Q, Qᵀ, dS [query][key], dO, dOᵀ
  float* stats = reinterpret_cast<float*>(dot + D * CS);  // lse [T], D [T] of the query tile
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32), g = lane / 4, t = lane % 4;
  const int64_t bh = blockIdx.y, k0 = int64_t(blockIdx.x) * T;
  const E *kb = k + bh * s.tk * D, *vb = v + bh * s.tk * D;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  // This warp's 16 keys as A fragments (rows g, g + 8), read once from global memory.
  uint32_t ka[D / 16][4], va[D / 16][4];
  const int64_t key[2] = {k0 + warp * 16 + g, k0 + warp * 16 + g + 8};
  auto row_pair = [&](const E* base, int64_t j, int c) {
    return j < s.tk ? pack_bf16(to_f32(base[j * D + c]), to_f32(base[j * D + c + 1])) : 0u;
  };
  for (int kk = 0; kk < D / 16; ++kk)
    for (int r = 0; r < 4; ++r) {
      const int64_t j = key[r % 2];
      const int c = 16 * kk + 8 * (r / 2) + 2 * t;
      ka[kk][r] = row_pair(kb, j, c);
      va[kk][r] = row_pair(vb, j, c);
    }
  for (int x = int(threadIdx.x); x < T * D; x += int(blockDim.x)) {
    const int r = x / D, c = x % D;
    const int64_t j = k0 + r;
    kt[c * CS + r] = uint16_t(bf16_bits(j < s.tk ? to_f32(kb[j * D + c]) : 0.0f));
  }
  float dk_acc[D / 8][4] = {}, dv_acc[D / 8][4] = {};
  const int64_t first = s.causal && k0 - (s.tk - s.tq) > 0 ? k0 - (s.tk - s.tq) : 0;
  for (int64_t q0 = first - first % T; q0 < s.tq; q0 += T) {
    __syncthreads();  // the previous tile is no longer read
    const E *qb = q + (bh * s.tq + q0) * D, *db = dout + (bh * s.tq + q0) * D;
    for (int x = int(threadIdx.x); x < T * D; x += int(blockDim.x)) {
      const int r = x / D, c = x % D;
      const bool in = q0 + r < s.tq;
      const uint16_t qv = uint16_t(bf16_bits(in ? to_f32(qb[r * D + c]) : 0.0f));
      const uint16_t dv16 = uint16_t(bf16_bits(in ? to_f32(db[r * D + c]) : 0.0f));
      qs[r * RS + c] = qv, qt[c * CS + r] = qv, dos[r * RS + c] = dv16, dot[c * CS + r] = dv16;
    }
    for (int r = int(threadIdx.x); r < T; r += int(blockDim.x)) {
      const bool in = q0 + r < s.tq;
      stats[r] = in ? lse[bh * s.tq + q0 + r] : -INFINITY;
      stats[T + r] = in ? delta[bh * s.tq + q0 + r] : 0.0f;
    }
    __syncthreads();
    // Sᵀ and dPᵀ: 16 keys × 64 queries per warp; element e of n-tile nt: key key[e / 2], query 8nt + 2t + e % 2.
    float st[T / 8][4], dpt[T / 8][4];
    for (int nt = 0; nt < T / 8; ++nt) {
      for (int e = 0; e < 4; ++e) st[nt][e] = 0.0f, dpt[nt][e] = 0.0f;
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t bq[2], bd[2];
        fragment_b(bq, qs, RS, 8 * nt + g, 16 * kk, t);
        fragment_b(bd, dos, RS, 8 * nt + g, 16 * kk, t);
        mma_m16n8k16_bf16(st[nt], ka[kk], bq, st[nt]);
        mma_m16n8k16_bf16(dpt[nt], va[kk], bd, dpt[nt]);
      }
      for (int e = 0; e < 4; ++e) {
        const int qi = 8 * nt + 2 * t + e % 2;
        const int64_t i = q0 + qi, j = key[e / 2];
        const float l = stats[qi];
        const float p = l != -INFINITY && i < s.tq && visible(mb, j, i, s) ? expf(st[nt][e] * scale - l) : 0.0f;
        st[nt][e] = p;                                    // Pᵀ
        dpt[nt][e] = p * (dpt[nt][e] - stats[T + qi]);    // dSᵀ (scale applied at the end / in dQ)
      }
    }
    // dV += Pᵀ·dO, dK += dSᵀ·Q: k-steps over the 64 queries.
    for (int kk = 0; kk < T / 16; ++kk) {
      const uint32_t pa[4] = {pack_bf16(st[2 * kk][0], st[2 * kk][1]), pack_bf16(st[2 * kk][2], st[2 * kk][3]),
                              pack_bf16(st[2 * kk + 1][0], st[2 * kk + 1][1]), pack_bf16(st[2 * kk + 1][2], st[2 * kk + 1][3])};
      const uint32_t sa[4] = {pack_bf16(dpt[2 * kk][0], dpt[2 * kk][1]), pack_bf16(dpt[2 * kk][2], dpt[2 * kk][3]),
                              pack_bf16(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]), pack_bf16(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3])};
      for (int nd = 0; nd < D / 8; ++nd) {
        uint32_t bd[2], bq[2];
        fragment_b(bd, dot, CS, 8 * nd + g, 16 * kk, t);
        fragment_b(bq, qt, CS, 8 * nd + g, 16 * kk, t);
        mma_m16n8k16_bf16(dv_acc[nd], pa, bd, dv_acc[nd]);
        mma_m16n8k16_bf16(dk_acc[nd], sa, bq, dk_acc[nd]);
      }
    }
    // dS [query][key] into shared memory, then dQ (16 queries per warp) = dS·K through Kᵀ.
    for (int nt = 0; nt < T / 8; ++nt)
      for (int e = 0; e < 4; ++e)
        ds_[(8 * nt + 2 * t + e % 2) * CS + warp * 16 + g + 8 * (e / 2)] = uint16_t(bf16_bits(dpt[nt][e]));
    __syncthreads();
    const int qr = warp * 16 + g;  // this thread's query rows qr, qr + 8 of the tile
    uint32_t da[T / 16][4];
    for (int kk = 0; kk < T / 16; ++kk) fragment_a(da[kk], ds_, CS, qr, 16 * kk, t);
    for (int nd = 0; nd < D / 8; ++nd) {
      float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (int kk = 0; kk < T / 16; ++kk) {
        uint32_t bk[2];
        fragment_b(bk, kt, CS, 8 * nd + g, 16 * kk, t);
        mma_m16n8k16_bf16(acc, da[kk], bk, acc);
      }
      for (int e = 0; e < 4; ++e) {
        const int64_t i = q0 + qr + 8 * (e / 2);
        if (i < s.tq) atomicAdd(&dq[(bh * s.tq + i) * D + 8 * nd + 2 * t + e % 2], acc[e] * scale);
      }
    }
  }
  for (int h = 0; h < 2; ++h) {
    const int64_t j = key[h];
    if (j >= s.tk) continue;
    for (int nd = 0; nd < D / 8; ++nd)
      for (int e = 0; e < 2; ++e) {
        dk[(bh * s.tk + j) * D + 8 * nd + 2 * t + e] = from_f32<E>(dk_acc[nd][2 * h + e] * scale);
        dv[(bh * s.tk + j) * D + 8 * nd + 2 * t + e] = from_f32<E>(dv_acc[nd][2 * h + e]);
      }
  }
}

template <int D, class E>
void launch_backward_mma(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v,
                         const float* lse, const E* dout, const float* keymask, const AttentionParams& s,
                         cudaStream_t st) {
  constexpr int T = 64;
  const dim3 grid(unsigned((s.tk + T - 1) / T), unsigned(s.batch * s.heads));
  const size_t smem = size_t(3 * D * (T + 8) + 2 * T * (D + 8) + T * (T + 8)) * sizeof(uint16_t) + 2 * T * sizeof(float);
  launch("attention_backward_mma", attention_backward_mma_kernel<E, D>, grid, dim3(128), smem, st, dq, dk, dv, q, k, v,
         dout, lse, delta, keymask, s, float(1.0 / std::sqrt(double(D))));
}

constexpr int kDecodeThreads = 128, kDecodeMaxKeys = 4096, kDecodeBlocksWanted = 264;  // ~2 blocks per SM

// Keys per split for a decode call: enough splits to fill the GPU, each at most kDecodeMaxKeys.
int64_t decode_split_keys(const AttentionParams& s) {
  const int64_t heads = s.batch * s.heads, by_fill = (kDecodeBlocksWanted + heads - 1) / heads;
  int64_t splits = by_fill < (s.tk + 63) / 64 ? by_fill : (s.tk + 63) / 64;
  splits = splits < (s.tk + kDecodeMaxKeys - 1) / kDecodeMaxKeys ? (s.tk + kDecodeMaxKeys - 1) / kDecodeMaxKeys : splits;
  splits = splits < 1 ? 1 : splits;
  return (s.tk + splits - 1) / splits;
}

template <class E>
__global__ void attention_decode_kernel(E* o, float* lse, float* part, const E* q, const E* k, const E* v,
                                        const float* keymask, AttentionParams s, float scale,
                                        int64_t split_keys) {
  COOPGEN_DYNAMIC_SHARED(float, decode_smem);
  __shared__ float scratch[32];
  const int dim = int(s.dim), tid = int(threadIdx.x);
  float *qs = decode_smem, *p = qs + dim, *partial = p + split_keys;  // partial: kDecodeThreads floats
  const int64_t bh = blockIdx.y, splits = gridDim.x, j0 = int64_t(blockIdx.x) * split_keys;
  const int64_t j1 = j0 + split_keys < s.tk ? j0 + split_keys : s.tk;
  const E *kb = k + bh * s.kv_rows * dim, *vb = v + bh * s.kv_rows * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int c = tid; c < dim; c += kDecodeThreads) qs[c] = to_f32(q[bh * dim + c]);
  __syncthreads();
  float mx = -INFINITY;
  for (int64_t j = j0 + tid; j < j1; j += kDecodeThreads) {
    float sc = -INFINITY;
    if (!mb || mb[j] != 0.0f) {  // one query sees every key (the causal horizon is the last key)
      float dot = 0.0f;
      for (int c = 0; c < dim; ++c) dot += qs[c] * to_f32(kb[j * dim + c]);
      sc = dot * scale;
    }
    p[j - j0] = sc;
    mx = fmaxf(mx, sc);
  }
  const float m = block_max(mx, scratch);
  float sum = 0.0f;
  for (int64_t j = j0 + tid; j < j1; j += kDecodeThreads) {
    const float e = m == -INFINITY || p[j - j0] == -INFINITY ? 0.0f : expf(p[j - j0] - m);
    p[j - j0] = e;
    sum += e;
  }
  const float l = block_sum(sum, scratch);  // its barriers also publish p
  // Output: thread (c, g) sums dim c over keys j0 + g, j0 + g + groups, …; groups = 128 / dim.
  const int groups = dim <= kDecodeThreads ? kDecodeThreads / dim : 1, c = tid % dim, g = tid / dim;
  float acc = 0.0f;
  if (g < groups)
    for (int64_t j = j0 + g; j < j1; j += groups) acc += p[j - j0] * to_f32(vb[j * dim + c]);
  partial[tid] = acc;
  __syncthreads();
  if (tid < dim) {
    float out = 0.0f;
    for (int gg = 0; gg < groups; ++gg) out += partial[gg * dim + tid];
    if (splits == 1) {
      o[bh * dim + tid] = from_f32<E>(l > 0.0f ? out / l : 0.0f);
      if (tid == 0) lse[bh] = l > 0.0f ? m + logf(l) : -INFINITY;
    } else {
      float* mine = part + (bh * splits + blockIdx.x) * (dim + 2);
      mine[tid] = out;
      if (tid == 0) mine[dim] = m, mine[dim + 1] = l;
    }
  }
}

// Merges the splits of one (b, h) (a block of ≥ dim threads).
template <class E>
__global__ void attention_decode_merge_kernel(E* o, float* lse, const float* part, int64_t splits, int dim) {
  const int64_t bh = blockIdx.x;
  const float* ps = part + bh * splits * (dim + 2);
  float big = -INFINITY;
  for (int64_t x = 0; x < splits; ++x)
    if (ps[x * (dim + 2) + dim + 1] > 0.0f) big = fmaxf(big, ps[x * (dim + 2) + dim]);
  float total = 0.0f, out = 0.0f;
  const int c = int(threadIdx.x);
  for (int64_t x = 0; x < splits; ++x) {
    const float* px = ps + x * (dim + 2);
    if (px[dim + 1] <= 0.0f) continue;
    const float w = expf(px[dim] - big);
    total += px[dim + 1] * w;
    if (c < dim) out += px[c] * w;
  }
  if (c < dim) o[bh * dim + c] = from_f32<E>(total > 0.0f ? out / total : 0.0f);
  if (c == 0) lse[bh] = total > 0.0f ? big + logf(total) : -INFINITY;
}

// out = x rounded to E (dq, summed in f32 by atomics, stored in the activations' type).
template <class E> __global__ void store_kernel(E* out, const float* x, int64_t n) {
  for (int64_t k = global_index(); k < n; k += grid_stride()) out[k] = from_f32<E>(x[k]);
}

// D_i = Σ_c dO_ic·O_ic, a warp per row.
template <class E>
__global__ void attention_delta_kernel(float* delta, const E* o, const E* dout, int64_t rows, int dim) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  float acc = 0.0f;
  for (int c = int(threadIdx.x % 32); c < dim; c += 32) acc += to_f32(dout[row * dim + c]) * to_f32(o[row * dim + c]);
  acc = warp_sum(acc);
  if (threadIdx.x % 32 == 0) delta[row] = acc;
}

template <class E>
__global__ void attention_backward_kernel(float* dq, E* dk, E* dv, const E* q, const E* k, const E* v, const E* dout,
                                          const float* lse, const float* delta,
                                          const float* keymask, AttentionParams s, float scale, int keys) {
  COOPGEN_DYNAMIC_SHARED(float, smem);
  const int dim = int(s.dim), stride = dim + 1, lane = int(threadIdx.x);
  float *ks = smem, *vs = ks + keys * stride, *dks = vs + keys * stride, *dvs = dks + keys * stride;
  float *qi = dvs + keys * stride, *doi = qi + dim;
  const int64_t bh = blockIdx.y, k0 = int64_t(blockIdx.x) * keys;
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

int64_t attention_forward_workspace(const AttentionParams& s) {
  if (s.tq != 1 || s.tk == 0) return 0;
  const int64_t split_keys = decode_split_keys(s), splits = (s.tk + split_keys - 1) / split_keys;
  return splits > 1 ? s.batch * s.heads * splits * (s.dim + 2) : 0;
}

template <class E>
void attention_forward(E* o, float* lse, float* workspace, const E* q, const E* k, const E* v, const float* keymask,
                       const AttentionParams& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  if (s.tq == 0 || s.batch * s.heads == 0) return;
  if (s.tq == 1 && s.tk > 0) {  // decoding: one query per head, split-K over the keys
    const int64_t split_keys = decode_split_keys(s), splits = (s.tk + split_keys - 1) / split_keys;
    const size_t smem = size_t(s.dim + split_keys + kDecodeThreads) * sizeof(float);
    const float scale = float(1.0 / std::sqrt(double(s.dim)));
    launch("attention_decode", attention_decode_kernel<E>, dim3(unsigned(splits), unsigned(s.batch * s.heads)),
           dim3(kDecodeThreads), smem, st, o, lse, workspace, q, k, v, keymask, s, scale, split_keys);
    if (splits > 1)
      launch("attention_decode_merge", attention_decode_merge_kernel<E>, dim3(unsigned(s.batch * s.heads)),
             dim3(kDecodeThreads), 0, st, o, lse, (const float*)workspace, splits, int(s.dim));
    return;
  }
  if (s.tensor_cores && s.dim == 64) return launch_forward_mma<64, 64>(o, lse, q, k, v, keymask, s, st);
  if (s.tensor_cores && s.dim == 128) return launch_forward_mma<128, 32>(o, lse, q, k, v, keymask, s, st);
  const dim3 grid(unsigned((s.tq + kQueries - 1) / kQueries), unsigned(s.batch * s.heads));
  const size_t smem = size_t(2 * kKeys * (s.dim + 1) + kQueries * s.dim) * sizeof(float);
  launch("attention_forward", attention_forward_kernel<E>, grid, dim3(32 * kQueries / kRowsPerWarp), smem, st, o, lse,
         q, k, v, keymask, s, float(1.0 / std::sqrt(double(s.dim))));
}

template <class E>
void attention_backward(float* dq_acc, E* dq, E* dk, E* dv, float* delta, const E* q, const E* k, const E* v,
                        const E* o, const float* lse, const E* dout, const float* keymask,
                        const AttentionParams& s, cudaStream_t st) {
  CG_CHECK(s.dim >= 1 && s.dim <= kMaxDim, "cuda attention: head dimension ", s.dim, " (at most ", kMaxDim, ")");
  CG_CHECK(s.kv_rows == s.tk, "cuda attention backward: K and V must be contiguous");
  const int64_t rows = s.batch * s.heads * s.tq;
  if (rows && cudaMemsetAsync(dq_acc, 0, size_t(rows * s.dim) * sizeof(float), st) != cudaSuccess)
    fail("cuda attention: clearing dq failed");
  if (s.tk > 0 && s.batch * s.heads > 0) {
    if (rows)
      launch("attention_delta", attention_delta_kernel<E>, grid_for(rows * 32), kBlock, 0, st, delta, o, dout, rows,
             int(s.dim));
    if (s.tensor_cores && s.dim == 64) {
      launch_backward_mma<64>(dq_acc, dk, dv, delta, q, k, v, lse, dout, keymask, s, st);
    } else if (s.tensor_cores && s.dim == 128) {
      launch_backward_mma<128>(dq_acc, dk, dv, delta, q, k, v, lse, dout, keymask, s, st);
    } else {
      const int keys = s.dim > 64 ? kKeys / 2 : kKeys;
      const dim3 grid(unsigned((s.tk + keys - 1) / keys), unsigned(s.batch * s.heads));
      const size_t smem = size_t(4 * keys * (s.dim + 1) + 2 * s.dim) * sizeof(float);
      launch("attention_backward", attention_backward_kernel<E>, grid, dim3(32), smem, st, dq_acc, dk, dv, q, k, v,
             dout, lse, delta, keymask, s, float(1.0 / std::sqrt(double(s.dim))), keys);
    }
  }
  if constexpr (!std::is_same_v<E, float>)  // dq was summed in f32 (atomics); store it as E
    if (rows) launch("attention_dq_store", store_kernel<E>, grid_for(rows * s.dim), kBlock, 0, st, dq, (const float*)dq_acc, rows * s.dim);
}

#define COOPGEN_INSTANTIATE(E)                                                                                     \
  template void attention_forward<E>(E*, float*, float*, const E*, const E*, const E*, const float*,                \
                                     const AttentionParams&, cudaStream_t);                               \
  template void attention_backward<E>(float*, E*, E*, E*, float*, const E*, const E*, const E*, const E*,           \
                                      const float*, const E*, const float*, const AttentionParams&, cudaStream_t);
COOPGEN_INSTANTIATE(float)
COOPGEN_INSTANTIATE(bf16_t)
#undef COOPGEN_INSTANTIATE

}  // namespace coopgen::cuda
