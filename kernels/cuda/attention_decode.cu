// Attention for one query per head (the sampling step over a KV cache, read in place), split-K as
// in Flash-Decoding (math in kernels/cpu/attention.h; the family's place: attention_family.cuh).
// The Tk keys of each (b, h) are cut into splits so that the grid fills the GPU even for one
// sequence; a block of 128 threads takes a split: warp w scores keys w, w+4, …, its lanes across
// the head dimension (each key's row one coalesced read; q from shared memory; a warp sum per
// key), the block reduces the split's max m and sum l, then
// threads (c, g) accumulate output dim c over key group g (coalesced rows of V) and the groups are
// summed in shared memory. With one split it writes o and lse; else each split writes
// (o·l unnormalised, m, l) and a second kernel merges them: M = max m_s, L = Σ l_s e^(m_s − M),
// o = Σ o_s e^(m_s − M) / L, lse = M + log L. Traffic: K and V once; FLOPs 4·Tk·d per (b, h).
#include <cmath>

#include "kernels/cuda/attention_family.cuh"

namespace coopgen::cuda::attention_family {

namespace {

constexpr int kDecodeThreads = 128, kDecodeMaxKeys = 4096, kDecodeBlocksPerSm = 2;

// Keys per split for a decode call: enough splits to fill the GPU (about two blocks per
// multiprocessor), each at most kDecodeMaxKeys.
int64_t decode_split_keys(const AttentionParams& s) {
  const int64_t wanted = int64_t(kDecodeBlocksPerSm) * sm_count();
  const int64_t heads = s.batch * s.heads, by_fill = (wanted + heads - 1) / heads;
  int64_t splits = by_fill < (s.tk + 63) / 64 ? by_fill : (s.tk + 63) / 64;
  splits = splits < (s.tk + kDecodeMaxKeys - 1) / kDecodeMaxKeys ? (s.tk + kDecodeMaxKeys - 1) / kDecodeMaxKeys : splits;
  splits = splits < 1 ? 1 : splits;
  return (s.tk + splits - 1) / splits;
}

template <class E>
__global__ void __launch_bounds__(kDecodeThreads)
    attention_decode_kernel(E* o, float* lse, float* part, const E* q, const E* k, const E* v,
                            const float* keymask, AttentionParams s, float scale,
                            int64_t split_keys) {
  COOPGEN_DYNAMIC_SHARED(float, decode_smem);
  __shared__ float scratch[32];
  const int dim = int(s.dim), tid = int(threadIdx.x);
  float *qs = decode_smem, *p = qs + dim, *partial = p + split_keys;  // partial: kDecodeThreads floats
  const int64_t bh = head_row(), splits = gridDim.x, j0 = int64_t(blockIdx.x) * split_keys;
  const int64_t j1 = j0 + split_keys < s.tk ? j0 + split_keys : s.tk;
  const E *kb = k + bh * s.kv_rows * dim, *vb = v + bh * s.kv_rows * dim;
  const float* mb = keymask ? keymask + (bh / s.heads) * s.tk : nullptr;
  for (int c = tid; c < dim; c += kDecodeThreads) qs[c] = to_f32(q[bh * dim + c]);
  __syncthreads();
  // Scores: a warp per key, its lanes across the head dimension, so a key's row is one coalesced
  // read. One query sees every key (the causal horizon is the last key); masked keys are skipped.
  const int lane = tid % 32, warp = tid / 32;
  float mx = -INFINITY;
  for (int64_t j = j0 + warp; j < j1; j += kDecodeThreads / 32) {
    float sc = -INFINITY;
    if (!mb || mb[j] != 0.0f) {  // warp-uniform
      float dot = 0.0f;
      for (int c = lane; c < dim; c += 32) dot += qs[c] * to_f32(kb[j * dim + c]);
      sc = warp_sum(dot) * scale;
    }
    if (lane == 0) p[j - j0] = sc;
    mx = fmaxf(mx, sc);
  }
  const float m = block_max(mx, scratch);  // its barriers also publish p
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
__global__ void __launch_bounds__(kDecodeThreads)
    attention_decode_merge_kernel(E* o, float* lse, const float* part, int64_t splits, int dim) {
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


}  // namespace

int64_t decode_workspace(const AttentionParams& s) {
  if (s.tq != 1 || s.tk == 0) return 0;
  const int64_t split_keys = decode_split_keys(s), splits = (s.tk + split_keys - 1) / split_keys;
  return splits > 1 ? s.batch * s.heads * splits * (s.dim + 2) : 0;
}

template <class E>
void forward_decode(E* o, float* lse, float* workspace, const E* q, const E* k, const E* v, const float* keymask,
                    const AttentionParams& s, cudaStream_t st) {
  const int64_t split_keys = decode_split_keys(s), splits = (s.tk + split_keys - 1) / split_keys;
  const size_t smem = size_t(s.dim + split_keys + kDecodeThreads) * sizeof(float);
  const float scale = float(1.0 / std::sqrt(double(s.dim)));
  launch("attention_decode", attention_decode_kernel<E>, head_grid(splits, s),
         dim3(kDecodeThreads), smem, st, o, lse, workspace, q, k, v, keymask, s, scale, split_keys);
  if (splits > 1)
    launch("attention_decode_merge", attention_decode_merge_kernel<E>, dim3(unsigned(s.batch * s.heads)),
           dim3(kDecodeThreads), 0, st, o, lse, (const float*)workspace, splits, int(s.dim));
}

template void forward_decode<float>(float*, float*, float*, const float*, const float*, const float*, const float*,
                                     const AttentionParams&, cudaStream_t);
template void forward_decode<bf16_t>(bf16_t*, float*, float*, const bf16_t*, const bf16_t*, const bf16_t*, const float*,
                                     const AttentionParams&, cudaStream_t);

}  // namespace coopgen::cuda::attention_family
