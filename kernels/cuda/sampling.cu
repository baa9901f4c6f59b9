// Fused softmax-sampling (math in kernels/cpu/sampling.h): one block per row of logits, one read
// of the row from global memory; a few long rows without truncation are split over several
// blocks per row (sample_chunk_kernel and sample_merge_kernel, below).
//
// Pass 1 (global memory, coalesced): warp w owns the contiguous segment w of the row; each lane
//   keeps an online (max, Σ exp((z−max)/τ), Σ exp(z−max)) over its elements, so the row's max,
//   log-sum-exp and every segment's tempered mass come out of this one read. When a rule truncates
//   the row is also staged in shared memory when it fits (V ≤ ~56k f32 on Hopper); otherwise the
//   later passes re-read it from global memory, where it is L2-resident (one row per block).
// Thresholds (the truncation rules of kernels/truncation/rules.def, in order: top-k, top-p, min-p):
//   a count or mass selection is a radix select on the logits' order-preserving 32-bit keys, four
//   8-bit digits from the top; each level builds a 256-bin histogram (count, or tempered mass) of
//   the elements that match the digits chosen so far, and picks the digit at which the cumulative
//   count/mass from the top reaches k or f·(kept mass). The result is the exact key of the k-th
//   largest logit / of the nucleus' last element, with the CPU's tie rule (every logit equal to
//   the threshold is kept): 4 passes per selection, no sort, no T×V scratch. min-p's relative
//   selection is a closed form on the row's max.
//   Histograms are replicated 8 ways (by lane) so that a warp's atomics conflict at most 4-way.
// Draw: u = Philox(seed, offset, row); with a mixture (ε > 0) u < ε picks the untruncated p_τ and
//   is rescaled to u/ε, else (u − ε)/(1 − ε) draws from the truncated part. The segment whose
//   mass in that component holds u·M (exclusive scan of the per-segment masses, both known from
//   the passes above) is walked by its warp 32 tokens at a time with a warp scan, so the token is
//   the CPU's inverse-CDF draw in vocabulary order, up to f32 rounding at a boundary.
// Traffic: 4V bytes read from global memory per row (+V/warps for the walk); with truncation
//   ~9 further passes over shared memory (or L2).
// A row with a NaN or +∞ logit, or none finite, gets token −1 and NaN log-probabilities (the CPU
// twin's rule; the decoders report it).
#include <algorithm>
#include <cfloat>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/sampling.cuh"
#include "kernels/philox.h"

namespace coopgen::cuda {

namespace {

constexpr int kMaxWarps = 32;
constexpr int kBins = 256, kReplicas = 8;
// Shared-memory layouts without bank conflicts (docs/perf.md, "Memory access patterns"): the
// histogram is replica-major with a word of padding per replica, so the replicas of one bin sit in
// different banks and the thread summing bin t over replicas reads bank (r + t) % 32; the 256 bin
// totals have a word of padding after every 8, so the lane summing bins 8l … 8l + 7 reads bank
// 9l % 32 (distinct for the 32 lanes) where a dense array gave 8-way conflicts.
constexpr int kHistRow = kBins + 1;
constexpr int bin_slot(int b) { return b + b / 8; }

// 1/τ and the exponent's scale log2(e)/τ in f32, held finite as the CPU twin holds 1/τ: a τ below
// f32's range keeps the row's maximum alone instead of making e(max) = 2^(0·∞) a NaN.
struct Tempering {
  float inv_t, scale;
};
COOPGEN_HD Tempering tempering(double temperature) {
  const float inv_t = float(std::min(1.0 / temperature, double(FLT_MAX)));
  return {inv_t, std::min(kLog2e * inv_t, FLT_MAX)};
}

// Monotone map of a float onto uint32: a < b ⇔ key(a) < key(b) (−0 just below +0).
__device__ __forceinline__ unsigned order_key(float z) {
  const unsigned u = __float_as_uint(z);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

struct SampleShared {
  float hist[kReplicas * kHistRow];  // bin b, replica r at r·kHistRow + b
  float bins[bin_slot(kBins)];        // bin b's total at bin_slot(b)
  float seg_max[kMaxWarps], seg_tempered[kMaxWarps], seg_plain[kMaxWarps];
  float seg_all[kMaxWarps];  // each segment's untruncated tempered mass (the mixture's p_τ part)
  int32_t seg_first[kMaxWarps];  // the first index of each segment's maximum (greedy decoding)
  float scratch[32];
  unsigned digit;
  float above;
  int chosen_warp;
  float chosen_start;  // the chosen segment's start on the component's cumulative mass
  float target;
  float kept_mass, all_mass;
  int from_all;  // the draw comes from the mixture's untruncated component
};

struct RowView {
  const float* z;  // the row: staged in shared memory or in global memory
  int64_t vocab;
  float zmax, scale;  // e(v) = 2^((z − zmax)·scale), scale = log2(e)/τ: the tempered, unnormalised q̂
  __device__ float e(float zv) const { return exp2f((zv - zmax) * scale); }
};

// The largest key t with Σ weight over {key ≥ t, key ≥ floor} reaching `need` (kMass: need is
// a fraction f times the total mass of {key ≥ floor}, found from the first level's histogram).
template <bool kMass>
__device__ __forceinline__ unsigned radix_select(const RowView& r, unsigned floor, float need, SampleShared& sh) {
  const unsigned lane = threadIdx.x % 32, replica = lane % kReplicas;
  unsigned prefix = 0, mask = 0;
  float above = 0;  // weight of the elements above the current prefix range
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < kReplicas * kHistRow; b += blockDim.x) sh.hist[b] = 0.0f;
    __syncthreads();
    for (int64_t v = threadIdx.x; v < r.vocab; v += blockDim.x) {
      const float zv = r.z[v];
      const unsigned key = order_key(zv);
      if (key >= floor && (key & mask) == prefix)
        atomicAdd(&sh.hist[replica * kHistRow + ((key >> shift) & 0xFFu)], kMass ? r.e(zv) : 1.0f);
    }
    __syncthreads();
    if (threadIdx.x < kBins) {
      float s = 0;
      for (int k = 0; k < kReplicas; ++k) s += sh.hist[k * kHistRow + threadIdx.x];
      sh.bins[bin_slot(threadIdx.x)] = s;
    }
    __syncthreads();
    if (threadIdx.x < 32) {
      // Lane l holds digits 255−8l … 248−8l (descending), so a scan in lane order runs from the top.
      float mine = 0;
      for (int k = 0; k < 8; ++k) mine += sh.bins[bin_slot(255 - 8 * int(lane) - k)];
      if (kMass && shift == 24) need *= warp_sum(mine);  // f · (mass of {key ≥ floor}); warp 0 keeps it
      float incl = mine;
      for (int o = 1; o < 32; o <<= 1) {
        const float up = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= unsigned(o)) incl += up;
      }
      // The first lane whose digits reach `need`; if rounding leaves `need` just past the total,
      // the lane holding the lowest non-empty digit.
      const unsigned hit = __ballot_sync(0xffffffffu, mine > 0 && above + incl >= need);
      const unsigned nonempty = __ballot_sync(0xffffffffu, mine > 0);
      const int owner = hit ? __ffs(int(hit)) - 1 : 31 - __clz(int(nonempty));
      if (int(lane) == owner) {
        float acc = above + incl - mine, at = acc;
        int pick = 255 - 8 * owner;
        for (int d = pick; d > 255 - 8 * owner - 8; --d) {
          const float w = sh.bins[bin_slot(d)];
          if (w == 0) continue;
          pick = d, at = acc;
          if (acc + w >= need) break;
          acc += w;
        }
        sh.digit = unsigned(pick);
        sh.above = at;
      }
    }
    __syncthreads();
    prefix |= sh.digit << shift;
    mask |= 0xFFu << shift;
    above = sh.above;
  }
  return prefix;
}

// A row as the truncation rules see it (kernels/truncation/rule.h): Key is the logit's order key;
// the count and mass selections are radix selects, the relative one a closed form, e(z) ≥ x ⇔
// z ≥ zmax + log2(x)/scale. Called by the whole block (the settings are the same in every thread).
struct KeyRow {
  using Key = unsigned;
  const RowView& r;
  SampleShared& sh;
  __device__ unsigned count_select(unsigned floor, int64_t k) { return radix_select<false>(r, floor, float(k), sh); }
  __device__ unsigned mass_select(unsigned floor, double fraction) {
    return radix_select<true>(r, floor, float(fraction), sh);
  }
  __device__ unsigned relative_select(unsigned floor, double x) const {
    const float z = r.zmax + log2f(float(x)) / r.scale;
    return z == z ? std::max(floor, order_key(z)) : floor;  // NaN (0/0, −∞/∞): every e equal, all kept
  }
};

// The statistics of the warp's segment [begin, end) of a row (lanes strided for coalescing; each
// lane keeps an online max and rescales its sums when it grows), combined over the warp.
struct SegmentStats {
  float max, tempered, plain;  // max z; Σ 2^((z − max)·scale); Σ e^(z − max)
  float bad;                   // 1 if a NaN or +∞ was seen
  int64_t first;               // the first index holding the max (`none` when the segment is empty)
};
__device__ __forceinline__ SegmentStats segment_stats(const float* z, int64_t begin, int64_t end, float scale,
                                                      bool tempered, float* stage, int64_t none) {
  const unsigned lane = threadIdx.x % 32;
  float m = -INFINITY, s_t = 0, s_1 = 0, bad = 0.0f;
  int64_t first = none;  // first index of this lane's maximum
  for (int64_t v = begin + lane; v < end; v += 32) {
    const float zv = z[v];
    if (zv != zv || zv == INFINITY) bad = 1.0f;  // NaN is the one value unequal to itself
    if (stage) stage[v] = zv;
    if (zv > m) {  // a new maximum: rescale both sums (rare after the first elements)
      s_t = s_t * exp2f((m - zv) * scale) + 1.0f;
      s_1 = s_1 * exp2f((m - zv) * kLog2e) + 1.0f;
      m = zv;
      first = v;
    } else if (zv > -INFINITY) {
      s_t += exp2f((zv - m) * scale);
      if (tempered) s_1 += exp2f((zv - m) * kLog2e);
    }
  }
  if (!tempered) s_1 = s_t;
  SegmentStats w;
  w.max = warp_max(m);
  const float to_w = m > -INFINITY ? 1.0f : 0.0f;
  w.tempered = warp_sum(to_w * s_t * exp2f((m - w.max) * scale));
  w.plain = warp_sum(to_w * s_1 * exp2f((m - w.max) * kLog2e));
  w.bad = warp_max(bad);
  w.first = m == w.max ? first : none;  // an index, reduced as an integer
  for (int o = 16; o > 0; o >>= 1) {
    const int64_t other = __shfl_xor_sync(0xffffffffu, w.first, o);
    w.first = other < w.first ? other : w.first;
  }
  return w;
}

// The inverse-CDF walk of one warp over [begin, end), 32 tokens at a time (inclusive warp scan of
// the masses x_v = e(z_v), 0 for a key below `floor`): the first v with x_v > 0 at which
// acc + Σ_{begin ≤ u ≤ v} x_u exceeds `target`, or the last v with x_v > 0 when rounding runs past
// the end. Every lane returns it.
__device__ __forceinline__ int64_t walk(const RowView& r, int64_t begin, int64_t end, unsigned floor, float acc,
                                        float target) {
  const unsigned lane = threadIdx.x % 32;
  int64_t token = -1, last_kept = -1;
  for (int64_t base = begin; base < end && token < 0; base += 32) {
    const int64_t v = base + lane;
    const float zv = v < end ? r.z[v] : -INFINITY;
    const float x = v < end && order_key(zv) >= floor ? r.e(zv) : 0.0f;
    float incl = x;
    for (int o = 1; o < 32; o <<= 1) {
      const float up = __shfl_up_sync(0xffffffffu, incl, o);
      if (lane >= unsigned(o)) incl += up;
    }
    const unsigned hit = __ballot_sync(0xffffffffu, x > 0 && acc + incl > target);
    const unsigned kept = __ballot_sync(0xffffffffu, x > 0);
    if (hit) token = base + __ffs(int(hit)) - 1;
    if (kept) last_kept = base + 31 - __clz(int(kept));
    acc += __shfl_sync(0xffffffffu, incl, 31);
  }
  return token >= 0 ? token : last_kept;
}

// u ∈ [0, 1) as the CPU twin uses it: with a mixture (ε = mix > 0), u < ε picks the untruncated
// p_τ (*from_all) and is rescaled to u/ε, else (u − ε)/(1 − ε) draws from the truncated part.
__device__ __forceinline__ float mixture_uniform(float u, float mix, bool* from_all) {
  *from_all = mix > 0 && u < mix;
  return *from_all ? u / mix : mix > 0 ? (u - mix) / (1 - mix) : u;
}

// The bin of mass[0 … count) that holds `target` on a line starting at acc: the first bin with mass
// whose range [acc + Σ_{j<i} mass_j, … + mass_i) contains it, or, when rounding leaves target past
// the total, the last bin with mass. *start gets the chosen bin's range start. One thread.
__device__ __forceinline__ int pick_bin(const float* mass, int count, float acc, float target, float* start) {
  int last = 0;
  float last_start = acc;
  for (int i = 0; i < count; ++i) {
    if (mass[i] > 0) {
      last = i, last_start = acc;
      if (target < acc + mass[i]) {
        *start = acc;
        return i;
      }
    }
    acc += mass[i];
  }
  *start = last_start;
  return last;
}

// Row n's uniform at the launch's Philox (seed, offset), or, given `stream` (i32 [4] in device
// memory: the seed, then an offset added to the launch's, each as low and high word), at the
// seed and offset read there, which a CUDA graph's replays rewrite.
__device__ __forceinline__ float draw_uniform(const SampleParams& a, const int32_t* stream, int64_t n) {
  if (!stream) return philox::uniform(a.seed, a.offset, uint64_t(n));
  return philox::uniform(philox::memory_word(stream, 0), a.offset + philox::memory_word(stream, 2), uint64_t(n));
}

__global__ void __launch_bounds__(kMaxWarps * 32)
    sample_kernel(int32_t* tokens, float* logp, float* logq, const float* logits, int64_t vocab,
                  SampleParams a, const int32_t* stream, bool staged) {
  __shared__ SampleShared sh;
  float* row_stage = nullptr;
  if (staged) {
    COOPGEN_DYNAMIC_SHARED(float, staged_row);
    row_stage = staged_row;
  }
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int64_t n = blockIdx.x;
  const float* z = logits + n * vocab;
  const bool greedy = a.q.greedy();
  const auto [inv_t, scale] = tempering(greedy ? 1.0 : a.q.temperature);

  // Pass 1: the segment [begin, end) of this warp, then the warps combined.
  const int64_t seg = (vocab + warps - 1) / warps;
  const int64_t begin = int64_t(warp) * seg < vocab ? int64_t(warp) * seg : vocab;
  const int64_t end = begin + seg < vocab ? begin + seg : vocab;
  const SegmentStats mine = segment_stats(z, begin, end, scale, inv_t != 1.0f, staged ? row_stage : nullptr, vocab);
  const float wmax = mine.max;
  if (lane == 0)
    sh.seg_max[warp] = wmax, sh.seg_tempered[warp] = mine.tempered, sh.seg_plain[warp] = mine.plain,
    sh.seg_first[warp] = int32_t(mine.first);
  const float zmax = block_max(wmax, sh.scratch);
  if (block_max(mine.bad, sh.scratch) > 0.0f || zmax == -INFINITY) {  // no distribution: the caller names the row
    if (threadIdx.x == 0) tokens[n] = -1, logp[n] = logq[n] = NAN;
    return;
  }
  float plain = 0;
  if (threadIdx.x < warps) {
    const float wm = sh.seg_max[threadIdx.x];
    plain = wm > -INFINITY ? sh.seg_plain[threadIdx.x] * exp2f((wm - zmax) * kLog2e) : 0.0f;
  }
  const float lse = zmax + logf(block_sum(plain, sh.scratch));

  if (greedy) {  // the first index holding the maximum (the block reductions above synchronised seg_*)
    if (threadIdx.x == 0) {
      int32_t tok = int32_t(vocab);
      for (unsigned w = 0; w < warps; ++w)
        if (sh.seg_max[w] == zmax && sh.seg_first[w] < tok) tok = sh.seg_first[w];
      tokens[n] = tok;
      logp[n] = z[tok] - lse;
      logq[n] = 0.0f;
    }
    return;
  }

  const RowView r{staged ? row_stage : z, vocab, zmax, scale};
  KeyRow row{r, sh};
  const unsigned threshold = a.q.threshold(row, vocab, 0u);  // keep the tokens whose key is ≥ threshold

  // Each segment's kept mass: from pass 1 without truncation, else one more pass.
  const float all = wmax > -INFINITY ? mine.tempered * exp2f((wmax - zmax) * scale) : 0.0f;
  float kept_here = all;  // this warp's segment's mass in the truncated component
  if (a.q.truncated(vocab)) {
    kept_here = 0;
    for (int64_t v = begin + lane; v < end; v += 32) {
      const float zv = r.z[v];
      if (order_key(zv) >= threshold) kept_here += r.e(zv);
    }
    kept_here = warp_sum(kept_here);
  }
  if (lane == 0) sh.seg_tempered[warp] = kept_here, sh.seg_all[warp] = all;
  __syncthreads();
  if (threadIdx.x == 0) {
    // The mixture's component, chosen by u itself (u < ε: p_τ), and u rescaled within it.
    float kept = 0, total = 0;
    for (unsigned w = 0; w < warps; ++w) kept += sh.seg_tempered[w], total += sh.seg_all[w];
    bool from_all;
    const float u =
        mixture_uniform(draw_uniform(a, stream, n), float(a.q.mix), &from_all);
    const float* mass = from_all ? sh.seg_all : sh.seg_tempered;
    float acc = 0;
    for (unsigned w = 0; w < warps; ++w) acc += mass[w];
    const float target = u * acc;
    sh.chosen_warp = pick_bin(mass, int(warps), 0.0f, target, &sh.chosen_start);
    sh.target = target;
    sh.kept_mass = kept, sh.all_mass = total, sh.from_all = from_all;
  }
  __syncthreads();
  const unsigned floor = sh.from_all ? 0u : threshold;
  if (int(warp) == sh.chosen_warp) {
    const int64_t t = walk(r, begin, end, floor, sh.chosen_start, sh.target);
    if (lane == 0) {
      tokens[n] = int32_t(t);
      logp[n] = z[t] - lse;
      if (a.q.mix > 0) {  // q̂(t) = ε·e/Σe + (1 − ε)·[t kept]·e/Σ_kept e
        const float et = r.e(z[t]), mix = float(a.q.mix);
        logq[n] = logf(mix * et / sh.all_mass + (order_key(z[t]) >= threshold ? (1 - mix) * et / sh.kept_mass : 0.0f));
      } else {
        logq[n] = (z[t] - zmax) * inv_t - logf(sh.kept_mass);
      }
    }
  }
}

// Split rows (untruncated tempered sampling of a few long rows, where one block per row would leave
// most SMs idle): pass 1 as `chunks` blocks per row, each writing its chunk's max, tempered and
// plain sums and NaN/+∞ flag to part [rows, chunks, 4]; then one block per row merges them, draws
// u, picks the chunk whose mass holds u·M, its warps split that chunk into segments, and the
// segment's warp walks it — the same draw in vocabulary order as the one-block kernel.
constexpr int kChunkThreads = 256, kMergeThreads = 256, kMaxChunks = 64;
constexpr int64_t kChunkMin = 4096;  // logits a chunk block takes at least

__global__ void __launch_bounds__(kChunkThreads)
    sample_chunk_kernel(float* part, const float* logits, int64_t vocab, int64_t chunk, float scale, bool tempered) {
  __shared__ float scratch[32], seg_max[kChunkThreads / 32], seg_t[kChunkThreads / 32], seg_1[kChunkThreads / 32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int64_t n = blockIdx.y, c0 = int64_t(blockIdx.x) * chunk, c1 = c0 + chunk < vocab ? c0 + chunk : vocab;
  const int64_t seg = (c1 - c0 + warps - 1) / warps;
  const int64_t begin = c0 + int64_t(warp) * seg < c1 ? c0 + int64_t(warp) * seg : c1, end = begin + seg < c1 ? begin + seg : c1;
  const SegmentStats w = segment_stats(logits + n * vocab, begin, end, scale, tempered, nullptr, vocab);
  if (lane == 0) seg_max[warp] = w.max, seg_t[warp] = w.tempered, seg_1[warp] = w.plain;
  const float cmax = block_max(w.max, scratch), bad = block_max(w.bad, scratch);
  float t = 0, p = 0;
  if (threadIdx.x < warps && seg_max[threadIdx.x] > -INFINITY) {
    t = seg_t[threadIdx.x] * exp2f((seg_max[threadIdx.x] - cmax) * scale);
    p = seg_1[threadIdx.x] * exp2f((seg_max[threadIdx.x] - cmax) * kLog2e);
  }
  t = block_sum(t, scratch);
  p = block_sum(p, scratch);
  if (threadIdx.x == 0) {
    float* o = part + (n * gridDim.x + blockIdx.x) * 4;
    o[0] = cmax, o[1] = t, o[2] = p, o[3] = bad;
  }
}

__global__ void __launch_bounds__(kMergeThreads)
    sample_merge_kernel(int32_t* tokens, float* logp, float* logq, const float* logits, const float* part, int64_t vocab,
                        int64_t chunk, int chunks, SampleParams a, const int32_t* stream) {
  __shared__ float seg[kMergeThreads / 32], chunk_mass[kMaxChunks];
  __shared__ float zmax, lse, kept, target, start, seg_start;
  __shared__ int chosen, seg_pick;
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int64_t n = blockIdx.x;
  const float* z = logits + n * vocab;
  const float* pn = part + n * chunks * 4;
  const auto [inv_t, scale] = tempering(a.q.temperature);
  if (threadIdx.x == 0) {  // merge the chunks, draw u, pick the chunk holding u·M
    float m = -INFINITY, bad = 0;
    for (int c = 0; c < chunks; ++c) m = fmaxf(m, pn[4 * c]), bad = fmaxf(bad, pn[4 * c + 3]);
    chosen = -1;
    if (bad == 0 && m > -INFINITY) {
      float t = 0, p = 0;
      for (int c = 0; c < chunks; ++c) {
        const bool any = pn[4 * c] > -INFINITY;
        chunk_mass[c] = any ? pn[4 * c + 1] * exp2f((pn[4 * c] - m) * scale) : 0.0f;
        t += chunk_mass[c];
        if (any) p += pn[4 * c + 2] * exp2f((pn[4 * c] - m) * kLog2e);
      }
      zmax = m, kept = t, lse = m + logf(p);
      // u as the one-block kernel uses it (here both mixture components are p_τ), so both kernels
      // draw the CPU's token.
      bool from_all;
      target = mixture_uniform(draw_uniform(a, stream, n), float(a.q.mix), &from_all) * t;
      chosen = pick_bin(chunk_mass, chunks, 0.0f, target, &start);
    } else {
      tokens[n] = -1, logp[n] = logq[n] = NAN;  // no distribution: the caller names the row
    }
  }
  __syncthreads();
  if (chosen < 0) return;
  // The chosen chunk, split into a segment per warp; the segment holding the target is walked.
  const RowView r{z, vocab, zmax, scale};
  const int64_t c0 = int64_t(chosen) * chunk, c1 = c0 + chunk < vocab ? c0 + chunk : vocab;
  const int64_t len = (c1 - c0 + warps - 1) / warps;
  const int64_t begin = c0 + int64_t(warp) * len < c1 ? c0 + int64_t(warp) * len : c1, end = begin + len < c1 ? begin + len : c1;
  float mine = 0;
  for (int64_t v = begin + lane; v < end; v += 32) mine += r.e(z[v]);
  mine = warp_sum(mine);
  if (lane == 0) seg[warp] = mine;
  __syncthreads();
  if (threadIdx.x == 0) seg_pick = pick_bin(seg, int(warps), start, target, &seg_start);
  __syncthreads();
  if (int(warp) == seg_pick) {
    const int64_t t = walk(r, begin, end, 0u, seg_start, target);
    if (lane == 0) {
      tokens[n] = int32_t(t);
      logp[n] = z[t] - lse;
      logq[n] = (z[t] - zmax) * inv_t - logf(kept);
    }
  }
}

// Threads per row: enough warps to keep the loads in flight on a long row, few on a short one.
int sample_block(int64_t vocab) { return vocab >= 16384 ? 1024 : vocab >= 4096 ? 512 : 256; }

}  // namespace

int sample_chunks(int64_t rows, int64_t vocab, const SampleParams& args) {
  if (args.q.greedy() || args.q.truncated(vocab) || rows <= 0 || vocab < 4 * kChunkMin) return 1;
  const int64_t fill = (2 * int64_t(sm_count()) + rows - 1) / rows;  // blocks per row to give every SM two
  const int64_t most = std::min<int64_t>(vocab / kChunkMin, kMaxChunks);
  return int(std::max<int64_t>(1, std::min(fill, most)));
}

int64_t sample_workspace(int64_t rows, int64_t vocab, const SampleParams& args) {
  const int chunks = sample_chunks(rows, vocab, args);
  return chunks > 1 ? rows * chunks * 4 : 0;
}

void sample_logits(int32_t* tokens, float* logp, float* logq, float* workspace, const float* logits, int64_t rows,
                   int64_t vocab, const SampleParams& args, const int32_t* stream, cudaStream_t s) {
  if (!rows) return;
  if (const int chunks = sample_chunks(rows, vocab, args); chunks > 1) {
    CG_CHECK(workspace, "CUDA kernel sample_logits: no workspace for ", chunks, " chunks per row");
    const int64_t chunk = (vocab + chunks - 1) / chunks;
    const Tempering t = tempering(args.q.temperature);
    launch("sample_logits_chunks", sample_chunk_kernel, dim3(unsigned(chunks), unsigned(rows)), kChunkThreads, 0, s,
           workspace, logits, vocab, chunk, t.scale, t.inv_t != 1.0f);
    launch("sample_logits_merge", sample_merge_kernel, unsigned(rows), kMergeThreads, 0, s, tokens, logp, logq, logits,
           (const float*)workspace, vocab, chunk, chunks, args, stream);
    return;
  }
  static const size_t stage_limit = [] {
    const int optin = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, "the shared memory limit (sample_logits)");
    return size_t(optin) > sizeof(SampleShared) ? size_t(optin) - sizeof(SampleShared) : 0;
  }();
  const size_t bytes = size_t(vocab) * sizeof(float);
  const bool staged = !args.q.greedy() && args.q.truncated(vocab) && bytes <= stage_limit;
  launch("sample_logits", sample_kernel, unsigned(rows), sample_block(vocab), staged ? bytes : 0, s, tokens, logp,
         logq, logits, vocab, args, stream, staged);
}

}  // namespace coopgen::cuda
