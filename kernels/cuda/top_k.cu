// The tree search's prior filter (math in kernels/cpu/top_k.h): one block per row of logits.
// Pass 1: the row's max and whether it defines a distribution (block max of z and of a NaN/+∞
// flag); pass 2: Σ e^(z−max) and Σ e^((z−max)/τ) (block sums). Then k rounds of a block argmax
// over the logits that come after the previous pick in the order (z descending, id ascending), so
// the picks are the CPU's partial sort, ties included. Traffic: (k + 2)·4V bytes read per row
// (from L2 after the first pass while the rows in flight fit it), 4(2k + 2) written. Meant for
// the small k of a tree search (tens; callers filter a host copy when k is a large part of V).
// Gumbel-top-k (DAS's candidates): the rounds order by z + G, G recomputed from Philox in each
// round rather than stored (k is a handful there), and write the picks' logits.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/top_k.cuh"
#include "kernels/philox.h"

namespace coopgen::cuda {

namespace {

constexpr int kTopKThreads = 256;

// (key, id) precedes (key', id') in the search's order: larger key (logit, or logit + Gumbel noise)
// first, then the lower id.
__device__ __forceinline__ bool before(float z, int id, float z2, int id2) { return z > z2 || (z == z2 && id < id2); }

__global__ void __launch_bounds__(kTopKThreads)
    top_k_logits_kernel(float* out, const float* logits, int64_t vocab, TopKParams p, float inv_t) {
  __shared__ float scratch[32], pick_key[32];
  __shared__ int pick_id[32];
  const int64_t k = p.k, first = int64_t(blockIdx.x) * vocab;  // first: the row's first (Philox) element
  const float* z = logits + first;
  float* o = out + int64_t(blockIdx.x) * (2 * k + 2);
  const int tid = int(threadIdx.x), lane = tid % 32, warp = tid / 32;
  auto key = [&](int64_t v) { return p.gumbel ? z[v] + philox::gumbel(p.seed, p.offset, uint64_t(first + v)) : z[v]; };
  float mx = -INFINITY, bad = 0.0f;
  for (int64_t v = tid; v < vocab; v += blockDim.x) {
    const float x = z[v];
    if (x != x || x == INFINITY) bad = 1.0f;  // NaN is the one value unequal to itself
    mx = fmaxf(mx, x);
  }
  mx = block_max(mx, scratch);
  if (block_max(bad, scratch) > 0.0f || mx == -INFINITY) {  // no distribution: the CPU's zeros and NaNs
    for (int64_t j = tid; j < 2 * k; j += blockDim.x) o[j] = 0.0f;
    if (tid == 0) o[2 * k] = o[2 * k + 1] = NAN;
    return;
  }
  float s = 0.0f, s_t = 0.0f;
  for (int64_t v = tid; v < vocab; v += blockDim.x) s += expf(z[v] - mx), s_t += expf((z[v] - mx) * inv_t);
  s = block_sum(s, scratch);
  s_t = block_sum(s_t, scratch);
  if (tid == 0) o[2 * k] = mx + logf(s), o[2 * k + 1] = mx * inv_t + logf(s_t);
  float last_key = INFINITY;
  int last_id = -1;
  for (int64_t j = 0; j < k; ++j) {
    float bkey = -INFINITY;
    int bid = 0x7fffffff;
    for (int64_t v = tid; v < vocab; v += blockDim.x) {
      const float x = key(v);
      if (before(last_key, last_id, x, int(v)) && before(x, int(v), bkey, bid)) bkey = x, bid = int(v);
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float okey = __shfl_xor_sync(0xffffffffu, bkey, off);
      const int oid = __shfl_xor_sync(0xffffffffu, bid, off);
      if (before(okey, oid, bkey, bid)) bkey = okey, bid = oid;
    }
    if (lane == 0) pick_key[warp] = bkey, pick_id[warp] = bid;
    __syncthreads();
    if (tid == 0) {
      for (int w = 1; w < int(blockDim.x) / 32; ++w)
        if (before(pick_key[w], pick_id[w], pick_key[0], pick_id[0])) pick_key[0] = pick_key[w], pick_id[0] = pick_id[w];
      // No id qualifies only if a key is NaN (a NaN logit, which the row check above excludes).
      o[j] = pick_id[0] < vocab ? z[pick_id[0]] : -INFINITY, o[k + j] = float(pick_id[0]);
    }
    __syncthreads();
    last_key = pick_key[0], last_id = pick_id[0];
    __syncthreads();  // everyone has the pick before the next round overwrites it
  }
}

}  // namespace

void top_k_logits(float* out, const float* logits, int64_t rows, int64_t vocab, const TopKParams& p, cudaStream_t s) {
  if (rows > 0 && vocab > 0)
    launch("top_k_logits", top_k_logits_kernel, unsigned(rows), kTopKThreads, 0, s, out, logits, vocab, p,
           float(1.0 / p.temperature));
}

}  // namespace coopgen::cuda
