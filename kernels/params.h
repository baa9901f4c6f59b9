// The parameters of the kernel-level ops, one named struct per kind (engine/ops.def names each
// op's): the engine fills them where it builds a call, and both backends' kernels take them as
// they are, so a setting keeps its name from the config key to the kernel that reads it. A leaf
// header: kernels include it without knowing the engine.
#pragma once
#include <array>
#include <bit>
#include <cstdint>

#include "kernels/philox.h"  // COOPGEN_HD
#include "kernels/truncation/rules.h"

namespace coopgen {

struct NoParams {};

struct FillParams {
  double value = 0;
};

// out = a + alpha·b.
struct AddParams {
  double alpha = 1;
};

// out = factor·a.
struct ScaleParams {
  double factor = 1;
};

// C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] for b < batch; op(A) [m, k], op(B) [k, n].
struct MatmulParams {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  double alpha = 1, beta = 0;
  // CUDA: f32 operands through the bf16 tensor cores (cuBLAS's FAST_16BF compute); bf16 operands
  // always use them. The CPU ignores it.
  bool tensor_cores = false;
};

struct LayerNormParams {
  double eps = 1e-5;
};

// Attention over q [B, H, Tq, d] and k, v [B, H, Tk, d] (kernels/cpu/attention.h has the math).
struct AttentionParams {
  int64_t batch = 0, heads = 0, tq = 0, tk = 0, dim = 0;
  bool causal = false;  // key j > i + Tk − Tq masked for query i
  int64_t kv_rows = 0;  // rows between consecutive heads of K and V (a KV cache read in place); Tk otherwise
  // CUDA: bf16 mma.sync at d 64 or 128 (bf16 q, k, v use it whenever they can); the CPU ignores it.
  bool tensor_cores = false;
};

// Masked pooling over time: sum, or mean over the unmasked positions.
struct PoolParams {
  bool mean = false;
};

// A vocabulary chunk of the fused output layer: its logits are tokens first_token … first_token + C − 1.
struct ChunkParams {
  int64_t first_token = 0;
};

// One AdamW step (kernels/cpu/adamw.h); grad_scale carries global-norm clipping.
struct AdamWParams {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0, grad_scale = 1;
  int64_t step = 1;  // 1-based
};

// The sampler's settings, one struct from the config (SamplingConfig, engine/ops.h, adds its keys)
// to the kernels (kernels/cpu/sampling.h): q̂ = ε·p_τ + (1 − ε)·(p_τ cut by every truncation rule,
// renormalised). The rules (top_k, top_p, min_p, ...: kernels/truncation/rules.def) are inherited,
// one setting each. Every question about the settings is asked here, once. A template of the rule
// list only so that a test can add a rule of its own (tests/test_registries.cpp).
template <class Rules> struct BasicSamplerSettings : Rules {
  using Rules::truncated;
  double temperature = 1.0;  // τ; 0: greedy
  // ε: the mixture weight of the untruncated p_τ (defensive importance sampling, Hesterberg 1995):
  // the truncated part concentrates the draws where p is high, the ε part keeps every token
  // possible, so no weight q/q̂ is unbounded. 0: truncation only.
  double mix = 0.0;

  COOPGEN_HD bool greedy() const { return temperature <= 0; }
  // q̂ = p exactly: untempered, and no rule cuts at any vocabulary size.
  COOPGEN_HD bool is_p() const { return temperature == 1.0 && !truncated(INT64_MAX); }
  // The settings' bits as 64-bit words: what a CUDA graph that baked them into its kernels'
  // arguments is kept under (trainers/decoding/decoding.cpp). Every field is a word (the rules'
  // static_assert, key()'s), so a field added anywhere is in the key.
  static constexpr size_t kWords = Rules::kRules + 2;
  std::array<int64_t, kWords> key() const {
    static_assert(sizeof(BasicSamplerSettings) == 8 * kWords, "SamplerSettings: every field a 64-bit word");
    return std::bit_cast<std::array<int64_t, kWords>>(*this);
  }
};
using SamplerSettings = BasicSamplerSettings<TruncationRules>;

// One draw per row from q̂ (kernels/cpu/sampling.h) with the Philox stream (seed, offset).
struct SampleParams {
  SamplerSettings q;
  uint64_t seed = 0, offset = 0;
};

// The k largest logits of each row and the row's two normalisers (kernels/cpu/top_k.h); with
// `gumbel`, the k largest of z + G instead (Gumbel-top-k: k draws without replacement from
// softmax(z)), G at Philox (seed, offset), element n·V + v.
struct TopKParams {
  int64_t k = 1;
  double temperature = 1;
  bool gumbel = false;
  uint64_t seed = 0, offset = 0;
};

// Uniform numbers lo + (hi − lo)·u from Philox4x32-10 at (seed, offset).
struct PhiloxParams {
  uint64_t seed = 0, offset = 0;
  double lo = 0, hi = 1;
  double dropout = 0;  // > 0: a dropout mask instead, 0 with this probability, else 1/(1 − dropout)
};

// Counts token ids outside [0, vocab).
struct TokenRangeParams {
  int64_t vocab = 0;
};

}  // namespace coopgen
