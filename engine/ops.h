// The differentiable functions models are written with. Each builds kernel-level op calls
// (engine/ops.def) and records its backward rule beside its forward (engine/ops.cpp).
// Shapes: N rows, C features, B batch, T time, H heads, D head dim, V vocabulary.
#pragma once
#include <functional>
#include <string>

#include "engine/autograd.h"
#include "engine/config.h"
#include "engine/tensor.h"
#include "kernels/params.h"

namespace coopgen {

// Elementwise (same shapes).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, double s);
// Inverted dropout: x ⊙ mask, the mask 0 with probability p, else 1/(1 − p), element k from the
// Philox stream (seed, offset) at counter k (the same mask on every backend). A composite, a Mul by
// a constant mask, so its gradient is dy ⊙ mask; p = 0 returns x. p ∈ [0, 1).
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);
void add_(Tensor& a, const Tensor& b, double alpha = 1.0);  // a += alpha·b, in place, no history
void fill_(Tensor& a, double value);                         // in place, no history
void copy_(Tensor& dst, const Tensor& src);                  // dst (any view) = src, no history
Tensor gelu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);

// x [..., C] + bias [C] (+ residual [..., C], in the same pass).
Tensor bias_add(const Tensor& x, const Tensor& bias, const Tensor& residual = Tensor());
// op(A) @ op(B): A [..., M, K] with B [K, N] (leading dims of A flattened), or A [Bt, M, K] with
// B [Bt, K, N]; trans_a / trans_b transpose the last two dims. On CUDA, bf16 operands multiply on
// the tensor cores (f32 accumulation); f32 ones do too with `tensor_cores` (operands rounded to
// bf16, cuBLAS's FAST_16BF), and in f32 otherwise. The CPU computes in the operands' dtype.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false, bool tensor_cores = false);
// x [..., in] · W[out, in]ᵀ + b[out] (b may be undefined) (+ residual [..., out]: the bias and the
// residual stream added in one pass after the product).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& residual = Tensor());
// gelu(x · Wᵀ + b): the bias and the activation in one pass after the product (and one before
// the backward products).
Tensor linear_gelu(const Tensor& x, const Tensor& w, const Tensor& b);
// Counts the ids of i32 `ids` outside [0, vocab) and, when there are any, fails with message(count):
// at once on the CPU; on CUDA at the next host synchronisation (device::defer_check), so the
// check costs no wait of its own. The ops that take token ids check them this way.
void check_token_range(const Tensor& ids, int64_t vocab, std::function<std::string(int64_t)> message);
// ids i32 [...], W [V, C] -> [..., C]. Ids outside [0, V) are an error naming the op.
Tensor embedding(const Tensor& ids, const Tensor& w);
// W[ids] + P[pos] in one pass (token plus position embeddings); pos i32 of ids' shape. The rows
// may be stored as bf16 from f32 tables (out_dtype; the table gradients stay f32).
Tensor embedding(const Tensor& ids, const Tensor& w, const Tensor& pos, const Tensor& p, DType out_dtype);
// table[ids[n], :] += src[n, :], in place, no history (PyTorch's index_add_ along dim 0; the
// embedding's gradient op): table f32 [R, C] contiguous, ids i32 [N] in [0, R) (else an error
// naming the op, on CUDA at the next synchronisation), src [N, C] f32 (or bf16 on CUDA). Repeated ids add
// up (atomically on CUDA, so their order of summation is not fixed).
void index_add_(Tensor& table, const Tensor& ids, const Tensor& src);
// Over the last dim; g, b [C].
Tensor layernorm(const Tensor& x, const Tensor& g, const Tensor& b, double eps = 1e-5);
// Over the last dim.
Tensor softmax(const Tensor& x);
// How a model computes on CUDA (config key `precision`, passed to the models' constructors): F32
// throughout, or BF16 mixed precision: the models keep their activations in bf16
// (Transformer::activation_dtype) and cast each f32 master weight to bf16 where it is used (its
// gradient returns in f32, so AdamW and its state stay f32); bf16 matmuls run on the tensor cores
// with f32 accumulation (cuBLAS), bf16 attention on mma.sync at head dims 64 and 128;
// normalisation statistics, log-sum-exps and losses are f32. The CPU computes in f32 regardless.
enum class Precision { F32, BF16 };
constexpr std::array<const char*, 2> config_names(Precision) { return {"fp32", "bf16"}; }

// Threads of the CPU backend's matrix products (OpenBLAS's pool; process-wide, set once at start-up
// from the config key `cpu_threads`). More threads change the order of floating-point sums, so
// results can differ in the last bits between thread counts.
void set_cpu_threads(int threads);

// q [B,H,Tq,D], k, v [B,H,Tk,D], key_mask [B,Tk] (1 keep, 0 padded; may be undefined).
// softmax(q kᵀ/√D + mask) v; causal aligns the last query with the last key (KV caches).
// One op (kernels/cpu/attention.h): no Tq×Tk scores are kept; the backward pass recomputes them
// from the saved log-sum-exp. A query with every key masked gets zeros. On CUDA, bf16 q, k, v use
// the mma.sync kernels at head dims 64 and 128; f32 ones do too with `tensor_cores`.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal,
                 bool tensor_cores = false);
// x [B,T,C], m [B,T] -> [B,C]: Σ_t m x, or its mean over the unmasked positions.
Tensor masked_sum(const Tensor& x, const Tensor& m);
Tensor masked_mean(const Tensor& x, const Tensor& m);
// Σ of all elements -> one-element tensor [1].
Tensor sum(const Tensor& x);
// Σ x², no history (gradient norms).
Tensor sum_squares(const Tensor& x);

// Sampling (no history). One token per row of logits [N,V] from q̂ = p at `temperature`,
// truncated by the rules (top_k, the top_p nucleus, min_p, ...), optionally mixed with the untruncated tempered p
// (see kernels/cpu/sampling.h); draws use the Philox stream (seed, offset + row/4 blocks), so the
// same call gives the same tokens on CPU and CUDA.
// The settings (kernels/params.h, SamplerSettings) with their config keys.
struct SamplingConfig : SamplerSettings {
  template <class V> void visit(V& v) {
    v("temperature", temperature, Range{0, kUnbounded});  // 0: greedy
    visit_rules(v);  // top_k, top_p, min_p, ... (kernels/truncation/rules.def)
    v("mix", mix, Range{0, 1});
  }
  // Each truncation rule's key at its default, the value that switches it off ("top_k 0, top_p 1,
  // ..."): what a message asking for untruncated samples names.
  static std::string rules_off();
};
struct Samples {
  Tensor tokens;  // i32 [N]
  Tensor logp;    // log p(token) under the model's untempered softmax
  Tensor logq;    // log q̂(token) under the sampling distribution
};
Samples sample_logits(const Tensor& logits, const SamplingConfig& cfg, uint64_t seed, uint64_t offset);
// The same with the Philox stream read from memory when the draw runs: `stream` i32 [4] on logits'
// device, philox_words(seed, base): the draws use (seed, base + offset). A CUDA graph that captured
// the call draws another stream at each replay once those four words are rewritten.
Samples sample_logits(const Tensor& logits, const SamplingConfig& cfg, const Tensor& stream, uint64_t offset);
// (seed, offset) as the low and high 32-bit words of each.
std::vector<int32_t> philox_words(uint64_t seed, uint64_t offset);

// The tree search's prior filter (kernels/cpu/top_k.h): logits [N,V] -> f32 [N, 2k'+2], k' = min(k, V)
// (k ≥ 1): per row the k' largest logits (decreasing; ties: lower id first), their token ids (as
// f32), log Σ e^z and log Σ e^(z/temperature) (temperature > 0); the last two NaN for a row with
// no distribution. No gradient. One copy of N·(2k'+2) floats replaces the N·V logits on the host.
Tensor top_k_logits(const Tensor& logits, int64_t k, double temperature);
// Gumbel-top-k: k tokens per row of logits [N,V] drawn from softmax(z) without replacement — the
// k largest z_v + G_v, G standard Gumbel noise from Philox (seed, offset) at element n·V + v
// (philox::gumbel, f32) — in the layout of top_k_logits (temperature 1): the picks' logits z in
// the order drawn, their ids, log Σ e^z twice. Kool et al. (2019), "Stochastic beams and where
// to find them". No gradient.
Tensor gumbel_top_k(const Tensor& logits, int64_t k, uint64_t seed, uint64_t offset);

// Losses, each -> [1].
// loss = −Σ_b w_b Σ_t m_bt log softmax(logits_bt)[y_bt]. logits [B,T,V] or [B·T,V], y i32 [B,T],
// m [B,T], w [B]. w and m are constants (no gradient flows to them).
Tensor weighted_logprob(const Tensor& logits, const Tensor& y, const Tensor& m, const Tensor& w);
// The same loss for logits = h·Wᵀ (h [.., d] hidden states, W [V, d] the output embedding) without
// the N×V logits: the vocabulary in chunks of `chunk` tokens, an online log-sum-exp forward and
// each chunk's logits recomputed backward (as Cut Cross-Entropy and Liger's fused linear
// cross-entropy do). Memory: N·chunk floats instead of N·V, for one more h·Wᵀ product.
Tensor weighted_logprob_linear(const Tensor& h, const Tensor& W, const Tensor& y, const Tensor& m, const Tensor& w,
                               int64_t chunk = 4096);
// Mean over unmasked tokens of −log p(y): weighted_logprob with w_b = 1/Σm.
Tensor cross_entropy(const Tensor& logits, const Tensor& y, const Tensor& m);
// mean_n BCE(σ(x_n), t_n), from logits, computed stably.
Tensor bce_with_logits(const Tensor& x, const Tensor& t);

}  // namespace coopgen
