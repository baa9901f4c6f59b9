// Attention on the bf16 tensor cores (mma.sync m16n8k16, f32 accumulators), head dimensions 64
// and 128 (math in kernels/cpu/attention.h; the family's place: attention_family.cuh). E is the
// storage type (f32 storage is rounded to bf16 as it is staged).
// Forward: a block of 4 warps takes 64 queries, a warp 16; Q, K and V are staged in shared memory
// as bf16 (16-byte cp.async copies for bf16 storage, double-buffered so the next key tile loads
// while this one is computed), fragments are read with ldmatrix (.trans for V), S = Q·Kᵀ and
// O += P·V are mma.sync with f32 accumulators, and P goes from S's accumulator registers straight
// into the A fragments of P·V (the layouts line up; FlashAttention-2's trick). Key tiles of 64 (32
// at d=128: 51 kB of shared memory, opted in). FLOPs 4·Tq·Tk·d per (b, h), halved by the causal
// horizon; traffic Q, O once, K and V once per 64 queries.
// Backward: FlashAttention-2's order (comment at the kernel below), staged and read the same way;
// traffic K, V, dK, dV once, Q and dO once per 64 keys, dQ by atomics.
#include <cmath>

#include "kernels/cuda/attention_family.cuh"
#include "kernels/cuda/ptx.cuh"

namespace coopgen::cuda::attention_family {

namespace {

// Round to nearest even, as __float2bfloat16_rn does (no NaN inputs here), and pack two.
__device__ __forceinline__ uint32_t bf16_bits(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) { return bf16_bits(lo) | (bf16_bits(hi) << 16); }
// The operands of mma_m16n8k16_bf16 (layouts in ptx.cuh) by ldmatrix.x4 from row-major bf16 tiles
// in shared memory, rows `stride` elements apart (16-byte aligned). Lane l addresses row l % 8 of
// matrix l / 8.
// A's 16×16 block at (row, col): matrix m is rows row + 8(m % 2) …, columns col + 8(m / 2) ….
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const uint16_t* tile, int stride, int row, int col) {
  const int lane = int(threadIdx.x % 32);
  ldmatrix_x4(a, tile + (row + 8 * ((lane / 8) % 2) + lane % 8) * stride + col + 8 * (lane / 16));
}
// B's fragments for the n-tiles n … n + 7 (b0) and n + 8 … n + 15 (b1) at k-step k … k + 15, from a
// tile holding Bᵀ (row n is B's column n): matrix m is rows n + 8(m / 2) …, columns k + 8(m % 2) ….
__device__ __forceinline__ void load_b_pair(uint32_t (&b0)[2], uint32_t (&b1)[2], const uint16_t* tile, int stride,
                                            int n, int k) {
  const int lane = int(threadIdx.x % 32);
  uint32_t r[4];
  ldmatrix_x4(r, tile + (n + 8 * (lane / 16) + lane % 8) * stride + k + 8 * ((lane / 8) % 2));
  b0[0] = r[0], b0[1] = r[1], b1[0] = r[2], b1[1] = r[3];
}
// The same from a tile holding B itself (row k is B's row k), transposed by ldmatrix .trans:
// matrix m is rows k + 8(m % 2) …, columns n + 8(m / 2) ….
__device__ __forceinline__ void load_b_pair_trans(uint32_t (&b0)[2], uint32_t (&b1)[2], const uint16_t* tile,
                                                  int stride, int n, int k) {
  const int lane = int(threadIdx.x % 32);
  uint32_t r[4];
  ldmatrix_x4_trans(r, tile + (k + 8 * ((lane / 8) % 2) + lane % 8) * stride + n + 8 * (lane / 16));
  b0[0] = r[0], b0[1] = r[1], b1[0] = r[2], b1[1] = r[3];
}

// Row g (h = 0) or g + 8 (h = 1) of an m16n8 accumulator tile per n-tile, f(acc[nd][2h + e]) at
// column 8nd + 2t + e, stored to `row` (that row's D elements) in 16-byte pieces. Stored as held,
// a warp's request would touch 8 rows × 4 bytes per thread pair: 8 sectors for 64 bytes (bf16).
// Instead, four n-tiles at a time, the 4 threads of a quad trade their pairs (xor shuffles: in
// round s thread t sends its pair of n-tile t ^ s and receives thread t ^ s's pair of n-tile t),
// and thread t writes n-tile nd0 + t whole: a request covers 64 (f32: 128) contiguous bytes of
// each of 8 rows. All lanes take part in the shuffles; `in_range` only gates the stores.
template <class T> __device__ __forceinline__ T pick4(const T (&a)[4], int i) {
  return i == 0 ? a[0] : i == 1 ? a[1] : i == 2 ? a[2] : a[3];
}
template <int D, class E, class F>
__device__ __forceinline__ void store_row(E* row, bool in_range, const float (&acc)[D / 8][4], int h, F f) {
  constexpr int W = sizeof(E) / 2;  // 32-bit words per pair: a bf16 pair packs into one
  const int t = int(threadIdx.x % 4);
  COOPGEN_UNROLL
  for (int nd0 = 0; nd0 < D / 8; nd0 += 4) {
    uint32_t mine[W][4], got[W][4];  // [word][n-tile nd0 + j] before the trade, [word][round s] after
    COOPGEN_UNROLL
    for (int j = 0; j < 4; ++j) {
      const float a = f(acc[nd0 + j][2 * h]), b = f(acc[nd0 + j][2 * h + 1]);
      if constexpr (W == 1) mine[0][j] = pack_bf16(a, b);
      else mine[0][j] = __float_as_uint(a), mine[1][j] = __float_as_uint(b);
    }
    COOPGEN_UNROLL
    for (int w = 0; w < W; ++w) {
      got[w][0] = pick4(mine[w], t);
      COOPGEN_UNROLL
      for (int r = 1; r < 4; ++r) got[w][r] = __shfl_xor_sync(0xffffffffu, pick4(mine[w], t ^ r), r);
    }
    if (!in_range) continue;
    // Pair k of n-tile nd0 + t came in round k ^ t.
    uint32_t out[4 * W];
    COOPGEN_UNROLL
    for (int k = 0; k < 4; ++k)
      COOPGEN_UNROLL
      for (int w = 0; w < W; ++w) out[W * k + w] = pick4(got[w], k ^ t);
    COOPGEN_UNROLL
    for (int q = 0; q < W; ++q)
      reinterpret_cast<uint4*>(row + 8 * (nd0 + t))[q] = make_uint4(out[4 * q], out[4 * q + 1], out[4 * q + 2], out[4 * q + 3]);
  }
}

// Rows row0 … row0 + rows − 1 of a [limit][D] head (`src`) into a bf16 tile with rows RS apart,
// zeros past `limit`. bf16 storage: 16-byte cp.async copies that complete at cp_async_wait_all()
// (the caller waits), so the next tile's loads overlap this tile's math; f32 storage: loaded,
// rounded and stored at once.
template <int D, int RS, class E>
__device__ __forceinline__ void stage_rows(uint16_t* dst, const E* src, int64_t row0, int rows, int64_t limit) {
  if constexpr (sizeof(E) == 2) {
    constexpr int kChunks = D / 8;  // 16-byte chunks per row
    for (int x = int(threadIdx.x); x < rows * kChunks; x += int(blockDim.x)) {
      const int r = x / kChunks, c = (x % kChunks) * 8;
      if (row0 + r < limit) cp_async_16(dst + r * RS + c, src + (row0 + r) * D + c);
      else *reinterpret_cast<uint4*>(dst + r * RS + c) = make_uint4(0, 0, 0, 0);
    }
  } else {
    for (int x = int(threadIdx.x); x < rows * D; x += int(blockDim.x)) {
      const int r = x / D, c = x % D;
      dst[r * RS + c] = uint16_t(bf16_bits(row0 + r < limit ? to_f32(src[(row0 + r) * D + c]) : 0.0f));
    }
  }
}

// The forward pass. Shared memory: Q [64][D] and two stages of K [KT][D] and V [KT][D], all
// row-major bf16 with rows padded by 8 (16-byte aligned rows for ldmatrix, spread over the banks);
// the next key tile is loaded while this one is computed. Fragments come from ldmatrix: Q's and
// K's as stored, V's with .trans (P·V needs V's columns), so nothing is transposed by hand.
template <class E, int D, int KT>
__global__ void __launch_bounds__(128)
    attention_forward_mma_kernel(E* o, float* lse, const E* q, const E* k, const E* v,
                                 const float* keymask, AttentionParams s, float scale) {
  constexpr int QT = 64, RS = D + 8;  // query tile rows; row stride in bf16 elements
  COOPGEN_DYNAMIC_SHARED(uint16_t, smem_bf16);  // (one name per element type: nvcc's extern arrays alias)
  uint16_t *qs = smem_bf16, *stages = qs + QT * RS;  // Q; stage i: K at stages + 2i·KT·RS, V after it
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32), g = lane / 4, t = lane % 4;
  const int64_t bh = head_row(), q0 = int64_t(blockIdx.x) * QT;
  const float scale_log2 = scale * kLog2e;
  const E *qb = q + bh * s.tq * D, *kb = k + bh * s.kv_rows * D, *vb = v + bh * s.kv_rows * D;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  const int64_t key_end = keys_seen(q0, QT, s), tiles = (key_end + KT - 1) / KT;
  stage_rows<D, RS>(qs, qb, q0, QT, s.tq);
  if (tiles > 0) {
    stage_rows<D, RS>(stages, kb, 0, KT, s.tk);
    stage_rows<D, RS>(stages + KT * RS, vb, 0, KT, s.tk);
  }
  cp_async_wait_all();
  __syncthreads();
  uint32_t qa[D / 16][4];  // the warp's 16 queries as A fragments
  COOPGEN_UNROLL
  for (int kk = 0; kk < D / 16; ++kk) load_a(qa[kk], qs, RS, warp * 16, 16 * kk);
  const int r0 = warp * 16 + g;  // this thread's rows of the tile: r0 and r0 + 8
  const int64_t rows[2] = {q0 + r0, q0 + r0 + 8};
  float acc[D / 8][4] = {}, m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t k0 = tile * KT;
    if (tile > 0) {
      cp_async_wait_all();  // this tile has landed
      __syncthreads();      // … for every thread, and everyone is done with the previous tile's stage
    }
    const uint16_t *ks = stages + (tile % 2) * 2 * KT * RS, *vs = ks + KT * RS;
    if (tile + 1 < tiles) {  // the next tile into the other stage, while this one is computed
      uint16_t* next = stages + ((tile + 1) % 2) * 2 * KT * RS;
      stage_rows<D, RS>(next, kb, k0 + KT, KT, s.tk);
      stage_rows<D, RS>(next + KT * RS, vb, k0 + KT, KT, s.tk);
    }
    // S = Q·Kᵀ, two n-tiles (16 keys) per ldmatrix.
    float sc[KT / 8][4] = {};
    COOPGEN_UNROLL
    for (int nt = 0; nt < KT / 8; nt += 2) {
      COOPGEN_UNROLL
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t b0[2], b1[2];
        load_b_pair(b0, b1, ks, RS, 8 * nt, 16 * kk);
        mma_m16n8k16_bf16(sc[nt], qa[kk], b0, sc[nt]);
        mma_m16n8k16_bf16(sc[nt + 1], qa[kk], b1, sc[nt + 1]);
      }
    }
    // Mask and scale (into log2 units: the exponentials are exp2f); element e of n-tile nt is row
    // rows[e / 2], key k0 + 8·nt + 2t + e % 2.
    float tile_max[2] = {-INFINITY, -INFINITY};
    COOPGEN_UNROLL
    for (int nt = 0; nt < KT / 8; ++nt)
      COOPGEN_UNROLL
      for (int e = 0; e < 4; ++e) {
        const int64_t i = rows[e / 2], j = k0 + 8 * nt + 2 * t + e % 2;
        sc[nt][e] = i < s.tq && visible(mb, j, i, s) ? sc[nt][e] * scale_log2 : -INFINITY;
        tile_max[e / 2] = fmaxf(tile_max[e / 2], sc[nt][e]);
      }
    float corr[2];
    COOPGEN_UNROLL
    for (int h = 0; h < 2; ++h) {  // the quad (lanes 4g … 4g+3) holds a row: reduce over it
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 1));
      tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xffffffffu, tile_max[h], 2));
      const float m_new = fmaxf(m[h], tile_max[h]);
      corr[h] = m[h] == -INFINITY ? 0.0f : exp2f(m[h] - m_new);
      m[h] = m_new;
    }
    float row_sum[2] = {0.0f, 0.0f};
    COOPGEN_UNROLL
    for (int nt = 0; nt < KT / 8; ++nt)
      COOPGEN_UNROLL
      for (int e = 0; e < 4; ++e) {
        sc[nt][e] = sc[nt][e] == -INFINITY ? 0.0f : exp2f(sc[nt][e] - m[e / 2]);
        row_sum[e / 2] += sc[nt][e];
      }
    COOPGEN_UNROLL
    for (int h = 0; h < 2; ++h) {
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 1);
      row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], 2);
      l[h] = l[h] * corr[h] + row_sum[h];
    }
    COOPGEN_UNROLL
    for (int nd = 0; nd < D / 8; ++nd)
      COOPGEN_UNROLL
      for (int e = 0; e < 4; ++e) acc[nd][e] *= corr[e / 2];
    // O += P·V: P from the accumulators; V's B fragments by ldmatrix .trans, two n-tiles (16 dims)
    // per instruction.
    COOPGEN_UNROLL
    for (int kk = 0; kk < KT / 16; ++kk) {
      const uint32_t pa[4] = {pack_bf16(sc[2 * kk][0], sc[2 * kk][1]), pack_bf16(sc[2 * kk][2], sc[2 * kk][3]),
                              pack_bf16(sc[2 * kk + 1][0], sc[2 * kk + 1][1]), pack_bf16(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
      COOPGEN_UNROLL
      for (int nd = 0; nd < D / 8; nd += 2) {
        uint32_t b0[2], b1[2];
        load_b_pair_trans(b0, b1, vs, RS, 8 * nd, 16 * kk);
        mma_m16n8k16_bf16(acc[nd], pa, b0, acc[nd]);
        mma_m16n8k16_bf16(acc[nd + 1], pa, b1, acc[nd + 1]);
      }
    }
  }
  COOPGEN_UNROLL
  for (int h = 0; h < 2; ++h) {
    const int64_t i = rows[h], row = bh * s.tq + (i < s.tq ? i : 0);
    store_row<D>(o + row * D, i < s.tq, acc, h, [&](float a) { return l[h] > 0.0f ? a / l[h] : 0.0f; });
    if (i < s.tq && t == 0) lse[row] = l[h] > 0.0f ? m[h] / kLog2e + logf(l[h]) : -INFINITY;  // m is in log2 units
  }
}

template <int D, int KT, class E>
void launch_forward_mma(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask,
                        const AttentionParams& s, cudaStream_t st) {
  const dim3 grid = head_grid((s.tq + 63) / 64, s);
  const size_t smem = size_t((64 + 4 * KT) * (D + 8)) * sizeof(uint16_t);  // Q, two stages of K and V
  launch("attention_forward_mma", attention_forward_mma_kernel<E, D, KT>, grid, dim3(128), smem, st, o, lse, q, k, v,
         keymask, s, float(1.0 / std::sqrt(double(D))));
}

// Backward, bf16 tensor cores: a block of 4 warps owns 64 keys (a warp 16), K and V staged once in
// shared memory; it walks the 64-query tiles that can see its keys, Q, dO and their statistics
// double-buffered (the next tile's cp.async loads overlap this tile's math). Per tile: Sᵀ = K·Qᵀ
// and dPᵀ = V·dOᵀ (mma), Pᵀ = 2^(log2(e)·(scale·Sᵀ − lse)), dSᵀ = Pᵀ∘(dPᵀ − D); then dV += Pᵀ·dO
// and dK += dSᵀ·Q with the probabilities straight from the accumulators, and dS goes through shared
// memory for dQ += dS·K, added to global memory with one atomic per element and key block. Every
// tile is stored row-major and read with ldmatrix (.trans where the mma wants the transpose: dO
// and Q for dV and dK, K for dQ), so no transposed copy is made.
template <class E, int D>
__global__ void __launch_bounds__(128)
    attention_backward_mma_kernel(float* dq, E* dk, E* dv, const E* q, const E* k, const E* v,
                                  const E* dout, const float* lse, const float* delta,
                                  const float* keymask, AttentionParams s, float scale) {
  constexpr int T = 64, RS = D + 8, CS = T + 8;  // tile (keys, queries); row strides of [T][D] and [T][T] tiles
  constexpr int QH = D > 64 ? 32 : 64;            // queries per sub-tile (registers: see below)
  COOPGEN_DYNAMIC_SHARED(uint16_t, smem_bwd);
  // K, V, dS [query][key]; stage i: Q at stages + 2i·T·RS, dO after it; its lse·log2(e) and D at stats + 2i·T.
  uint16_t *ks = smem_bwd, *vs = ks + T * RS, *ds_ = vs + T * RS, *stages = ds_ + T * CS;
  float* stats = reinterpret_cast<float*>(stages + 4 * T * RS);
  const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32), g = lane / 4, t = lane % 4;
  const int64_t bh = head_row(), k0 = int64_t(blockIdx.x) * T;
  const float scale_log2 = scale * kLog2e;
  const E *qb = q + bh * s.tq * D, *db = dout + bh * s.tq * D;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  const int64_t key[2] = {k0 + warp * 16 + g, k0 + warp * 16 + g + 8};
  const int64_t first = s.causal && k0 - (s.tk - s.tq) > 0 ? k0 - (s.tk - s.tq) : 0, begin = first - first % T;
  const int64_t tiles = begin < s.tq ? (s.tq - begin + T - 1) / T : 0;
  auto stage_queries = [&](int64_t tile, int buf) {
    const int64_t q0 = begin + tile * T;
    uint16_t* qs = stages + 2 * buf * T * RS;
    stage_rows<D, RS>(qs, qb, q0, T, s.tq);
    stage_rows<D, RS>(qs + T * RS, db, q0, T, s.tq);
    float* st = stats + 2 * buf * T;
    for (int r = int(threadIdx.x); r < T; r += int(blockDim.x)) {
      const bool in = q0 + r < s.tq;
      st[r] = in ? lse[bh * s.tq + q0 + r] * kLog2e : -INFINITY;
      st[T + r] = in ? delta[bh * s.tq + q0 + r] : 0.0f;
    }
  };
  stage_rows<D, RS>(ks, k + bh * s.tk * D, k0, T, s.tk);
  stage_rows<D, RS>(vs, v + bh * s.tk * D, k0, T, s.tk);
  if (tiles > 0) stage_queries(0, 0);
  cp_async_wait_all();
  __syncthreads();
  // The f32 accumulators of dK and dV stay in registers (128 of them at d = 128); fragments are read
  // from shared memory where they are used.
  float dk_acc[D / 8][4] = {}, dv_acc[D / 8][4] = {};
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t q0 = begin + tile * T;
    if (tile > 0) {
      cp_async_wait_all();  // this tile has landed
      __syncthreads();      // … for every thread, and everyone is done with the previous tile
    }
    const uint16_t *qs = stages + 2 * (tile % 2) * T * RS, *dos = qs + T * RS;
    const float* st_tile = stats + 2 * (tile % 2) * T;
    if (tile + 1 < tiles) stage_queries(tile + 1, int((tile + 1) % 2));
    // Per sub-tile of QH queries (64 at d = 64; 32 at d = 128, where the dK and dV accumulators
    // leave no room for 64): Sᵀ and dPᵀ, 16 keys × QH queries per warp, element e of n-tile nt at
    // key key[e / 2], query sub + 8nt + 2t + e % 2; then dV += Pᵀ·dO and dK += dSᵀ·Q over those
    // queries, with Pᵀ and dSᵀ straight from the accumulators; dS [query][key] to shared memory.
    COOPGEN_NO_UNROLL
    for (int sub = 0; sub < T; sub += QH) {
      float st[QH / 8][4] = {}, dpt[QH / 8][4] = {};
      COOPGEN_UNROLL
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t ka[4], va[4];
        load_a(ka, ks, RS, warp * 16, 16 * kk);
        load_a(va, vs, RS, warp * 16, 16 * kk);
        COOPGEN_UNROLL
        for (int nt = 0; nt < QH / 8; nt += 2) {
          uint32_t bq0[2], bq1[2], bd0[2], bd1[2];
          load_b_pair(bq0, bq1, qs, RS, sub + 8 * nt, 16 * kk);
          load_b_pair(bd0, bd1, dos, RS, sub + 8 * nt, 16 * kk);
          mma_m16n8k16_bf16(st[nt], ka, bq0, st[nt]);
          mma_m16n8k16_bf16(st[nt + 1], ka, bq1, st[nt + 1]);
          mma_m16n8k16_bf16(dpt[nt], va, bd0, dpt[nt]);
          mma_m16n8k16_bf16(dpt[nt + 1], va, bd1, dpt[nt + 1]);
        }
      }
      COOPGEN_UNROLL
      for (int nt = 0; nt < QH / 8; ++nt)
        COOPGEN_UNROLL
        for (int e = 0; e < 4; ++e) {
          const int qi = sub + 8 * nt + 2 * t + e % 2;
          const int64_t i = q0 + qi, j = key[e / 2];
          const float l = st_tile[qi];  // lse in log2 units
          const float p = l != -INFINITY && i < s.tq && visible(mb, j, i, s) ? exp2f(st[nt][e] * scale_log2 - l) : 0.0f;
          st[nt][e] = p;                                    // Pᵀ
          dpt[nt][e] = p * (dpt[nt][e] - st_tile[T + qi]);  // dSᵀ (scale applied at the end / in dQ)
          ds_[qi * CS + warp * 16 + g + 8 * (e / 2)] = uint16_t(bf16_bits(dpt[nt][e]));
        }
      COOPGEN_UNROLL
      for (int kk = 0; kk < QH / 16; ++kk) {
        const uint32_t pa[4] = {pack_bf16(st[2 * kk][0], st[2 * kk][1]), pack_bf16(st[2 * kk][2], st[2 * kk][3]),
                                pack_bf16(st[2 * kk + 1][0], st[2 * kk + 1][1]), pack_bf16(st[2 * kk + 1][2], st[2 * kk + 1][3])};
        const uint32_t sa[4] = {pack_bf16(dpt[2 * kk][0], dpt[2 * kk][1]), pack_bf16(dpt[2 * kk][2], dpt[2 * kk][3]),
                                pack_bf16(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]), pack_bf16(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3])};
        COOPGEN_UNROLL
        for (int nd = 0; nd < D / 8; nd += 2) {
          uint32_t bd0[2], bd1[2], bq0[2], bq1[2];
          load_b_pair_trans(bd0, bd1, dos, RS, 8 * nd, sub + 16 * kk);
          load_b_pair_trans(bq0, bq1, qs, RS, 8 * nd, sub + 16 * kk);
          mma_m16n8k16_bf16(dv_acc[nd], pa, bd0, dv_acc[nd]);
          mma_m16n8k16_bf16(dv_acc[nd + 1], pa, bd1, dv_acc[nd + 1]);
          mma_m16n8k16_bf16(dk_acc[nd], sa, bq0, dk_acc[nd]);
          mma_m16n8k16_bf16(dk_acc[nd + 1], sa, bq1, dk_acc[nd + 1]);
        }
      }
    }
    __syncthreads();  // dS of the whole tile is in shared memory
    // dQ (16 queries per warp) = dS·K, K's B fragments by ldmatrix .trans.
    const int qr = warp * 16 + g;  // this thread's query rows qr, qr + 8 of the tile
    uint32_t da[T / 16][4];
    COOPGEN_UNROLL
    for (int kk = 0; kk < T / 16; ++kk) load_a(da[kk], ds_, CS, warp * 16, 16 * kk);
    COOPGEN_UNROLL
    for (int nd = 0; nd < D / 8; nd += 2) {
      float acc[2][4] = {};
      COOPGEN_UNROLL
      for (int kk = 0; kk < T / 16; ++kk) {
        uint32_t bk0[2], bk1[2];
        load_b_pair_trans(bk0, bk1, ks, RS, 8 * nd, 16 * kk);
        mma_m16n8k16_bf16(acc[0], da[kk], bk0, acc[0]);
        mma_m16n8k16_bf16(acc[1], da[kk], bk1, acc[1]);
      }
      COOPGEN_UNROLL
      for (int h = 0; h < 2; ++h)
        COOPGEN_UNROLL
        for (int e = 0; e < 4; ++e) {
          const int64_t i = q0 + qr + 8 * (e / 2);
          if (i < s.tq) atomicAdd(&dq[(bh * s.tq + i) * D + 8 * (nd + h) + 2 * t + e % 2], acc[h][e] * scale);
        }
    }
  }
  COOPGEN_UNROLL
  for (int h = 0; h < 2; ++h) {
    const int64_t j = key[h], row = bh * s.tk + (j < s.tk ? j : 0);
    store_row<D>(dk + row * D, j < s.tk, dk_acc, h, [&](float a) { return a * scale; });
    store_row<D>(dv + row * D, j < s.tk, dv_acc, h, [](float a) { return a; });
  }
}

template <int D, class E>
void launch_backward_mma(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v,
                         const float* lse, const E* dout, const float* keymask, const AttentionParams& s,
                         cudaStream_t st) {
  constexpr int T = 64;
  const dim3 grid = head_grid((s.tk + T - 1) / T, s);
  // K, V, two stages of Q and dO, dS; two stages of lse and D.
  const size_t smem = size_t(6 * T * (D + 8) + T * (T + 8)) * sizeof(uint16_t) + 4 * T * sizeof(float);
  launch("attention_backward_mma", attention_backward_mma_kernel<E, D>, grid, dim3(128), smem, st, dq, dk, dv, q, k, v,
         dout, lse, delta, keymask, s, float(1.0 / std::sqrt(double(D))));
}

}  // namespace

template <class E>
void forward_mma(E* o, float* lse, const E* q, const E* k, const E* v, const float* keymask, const AttentionParams& s,
                 cudaStream_t st) {
  CG_CHECK(mma_dim(s.dim), "cuda attention (mma.sync): head dimension ", s.dim, " is not 64 or 128");
  if (s.dim == 64) return launch_forward_mma<64, 64>(o, lse, q, k, v, keymask, s, st);
  launch_forward_mma<128, 32>(o, lse, q, k, v, keymask, s, st);
}

template <class E>
void backward_mma(float* dq, E* dk, E* dv, const float* delta, const E* q, const E* k, const E* v, const E* dout,
                  const float* lse, const float* keymask, const AttentionParams& s, cudaStream_t st) {
  CG_CHECK(mma_dim(s.dim), "cuda attention (mma.sync): head dimension ", s.dim, " is not 64 or 128");
  if (s.dim == 64) return launch_backward_mma<64>(dq, dk, dv, delta, q, k, v, lse, dout, keymask, s, st);
  launch_backward_mma<128>(dq, dk, dv, delta, q, k, v, lse, dout, keymask, s, st);
}

template void forward_mma<float>(float*, float*, const float*, const float*, const float*, const float*, const AttentionParams&,
                                  cudaStream_t);
template void backward_mma<float>(float*, float*, float*, const float*, const float*, const float*, const float*, const float*,
                                   const float*, const float*, const AttentionParams&, cudaStream_t);
template void forward_mma<bf16_t>(bf16_t*, float*, const bf16_t*, const bf16_t*, const bf16_t*, const float*, const AttentionParams&,
                                  cudaStream_t);
template void backward_mma<bf16_t>(float*, bf16_t*, bf16_t*, const float*, const bf16_t*, const bf16_t*, const bf16_t*, const bf16_t*,
                                   const float*, const float*, const AttentionParams&, cudaStream_t);

}  // namespace coopgen::cuda::attention_family
