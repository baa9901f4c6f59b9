// Sampler (math in kernels/cpu/sampling.h): one block per row. Passes over the row: max, the
// exp-sum, then for top-k and top-p a bisection on the float bit pattern of the threshold
// (≤ 31 counting/mass passes each; no sort of the vocabulary), the kept mass, and a chunked CDF
// walk: each thread sums its contiguous chunk, thread 0 scans the 256 chunk sums, the thread
// whose chunk holds u·mass walks it. Probabilities are recomputed from the logits in every pass
// (nothing of size V is stored). The fused single-pass kernel comes with the performance work.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/sampling.cuh"
#include "kernels/philox.h"

namespace coopgen::cuda {

namespace {

struct Row {
  const float* z;
  int64_t vocab;
  float zmax, inv_t;
  __device__ float e(int64_t v) const { return expf((z[v] - zmax) * inv_t); }
};

// Σ over v of e(v) (kMass) or of 1 (count), for tokens with e(v) ≥ lo and e(v) ≥ floor.
template <bool kMass>
__device__ float kept(const Row& r, float lo, float floor, float* scratch) {
  float acc = 0;
  for (int64_t v = threadIdx.x; v < r.vocab; v += blockDim.x) {
    const float x = r.e(v);
    if (x >= lo && x >= floor) acc += kMass ? x : 1.0f;
  }
  return block_sum(acc, scratch);
}

// Largest threshold t (by bisection on its bits, from `floor` up to 1) with kept(t) ≥ need.
template <bool kMass>
__device__ float bisect(const Row& r, float floor, float need, float* scratch) {
  unsigned lo = __float_as_uint(floor), hi = __float_as_uint(1.0f) + 1;
  while (hi - lo > 1) {
    const unsigned mid = lo + (hi - lo) / 2;
    if (kept<kMass>(r, __uint_as_float(mid), floor, scratch) >= need) lo = mid;
    else hi = mid;
  }
  return __uint_as_float(lo);
}

__global__ void sample_kernel(int32_t* tokens, float* logp, float* logq, const float* logits, int64_t vocab,
                              cpu::SampleArgs a) {
  __shared__ float scratch[32];
  __shared__ float chunk_start[kBlock];
  __shared__ int chosen;
  const int64_t n = blockIdx.x;
  Row r{logits + n * vocab, vocab, -INFINITY, 1.0f};
  float mx = -INFINITY;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) mx = fmaxf(mx, r.z[v]);
  r.zmax = block_max(mx, scratch);
  float s = 0;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) s += expf(r.z[v] - r.zmax);
  const float lse = r.zmax + logf(block_sum(s, scratch));
  if (a.temperature <= 0) {  // greedy: the first index holding the maximum
    float first = float(vocab);
    for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x)
      if (r.z[v] == r.zmax) first = fminf(first, float(v));
    first = -block_max(-first, scratch);
    if (threadIdx.x == 0) {
      tokens[n] = int32_t(first);
      logp[n] = r.z[int64_t(first)] - lse;
      logq[n] = 0.0f;
    }
    return;
  }
  r.inv_t = float(1.0 / a.temperature);
  float floor = 0.0f;
  if (a.top_k > 0 && a.top_k < vocab) floor = bisect<false>(r, 0.0f, float(a.top_k), scratch);
  if (a.top_p < 1.0) floor = bisect<true>(r, floor, float(a.top_p) * kept<true>(r, 0.0f, floor, scratch), scratch);
  const float mass = kept<true>(r, 0.0f, floor, scratch);
  const float target = philox::uniform(a.seed, a.offset, uint64_t(n)) * mass;

  const int64_t chunk = (vocab + blockDim.x - 1) / blockDim.x;
  const int64_t begin = int64_t(threadIdx.x) * chunk, end = begin + chunk < vocab ? begin + chunk : vocab;
  float mine = 0;
  int last_kept = -1;
  for (int64_t v = begin; v < end; ++v) {
    const float x = r.e(v);
    if (x >= floor) mine += x, last_kept = int(v);
  }
  chunk_start[threadIdx.x] = mine;
  if (threadIdx.x == 0) chosen = -1;
  __syncthreads();
  if (threadIdx.x == 0) {
    float acc = 0;
    for (unsigned t = 0; t < blockDim.x; ++t) {
      const float x = chunk_start[t];
      chunk_start[t] = acc;
      acc += x;
    }
  }
  __syncthreads();
  float acc = chunk_start[threadIdx.x];
  if (mine > 0 && target >= acc && target < acc + mine) {
    for (int64_t v = begin; v < end; ++v) {
      const float x = r.e(v);
      if (x < floor) continue;
      acc += x;
      if (acc > target) {
        chosen = int(v);
        break;
      }
    }
    if (chosen < 0) chosen = last_kept;
  }
  // Rounding can leave the target past the last kept token: take the last one then.
  const float fallback = block_max(float(last_kept), scratch);
  if (threadIdx.x == 0) {
    const int token = chosen >= 0 ? chosen : int(fallback);
    tokens[n] = token;
    logp[n] = r.z[token] - lse;
    logq[n] = logf(r.e(token) / mass);
  }
}

}  // namespace

void sample_logits(int32_t* tokens, float* logp, float* logq, const float* logits, int64_t rows, int64_t vocab,
                   const cpu::SampleArgs& args, cudaStream_t s) {
  if (rows) launch("sample_logits", sample_kernel, unsigned(rows), kBlock, 0, s, tokens, logp, logq, logits, vocab, args);
}

}  // namespace coopgen::cuda
