// Decoding from the generator: batched ancestral sampling with the KV cache, and the cooperative
// decoders in which the discriminator guides the generator (docs/method.md, "Cooperative
// decoding"): Monte-Carlo tree search over p·D and discriminator-guided beam search
// (trainers/cooperative.cpp), the token-by-token proposal q̂ ∝ p·D on prefixes
// (trainers/guided.cpp), and reranking of sampled candidates by p·D/q̂ (trainers/rerank.cpp).
// Each decodes a batch of sequences with one generator forward and one discriminator call per
// search step for the whole batch.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/ops.h"
#include "models/discriminator.h"
#include "models/generator.h"
#include "models/oracle.h"

namespace coopgen {

struct SampledSet {
  Sequences seqs;
  std::vector<double> logp, logq;  // per sequence: Σ_t log p, Σ_t log q̂ of its tokens
};

// What a decoder continues: the start token, then each of `contexts` (none for unconditional
// generation; `src <sep>` for conditional generation), `per_context` times. Outputs are
// context-major (the continuations of context i are rows i·per_context … (i+1)·per_context − 1) and
// hold only the generated tokens; the discriminator sees context + continuation.
struct Prompts {
  int32_t start_token = 0;
  Sequences contexts{{}};
  int64_t per_context = 1;
  // One rank's shard of a draw spread over ranks: these rows are rows first_row … (a multiple of 4)
  // of a draw of stream_rows rows (0: this call alone). Random numbers are addressed by token
  // position and row within the whole draw, so every row gets the tokens it would get there.
  int64_t first_row = 0, stream_rows = 0;
  static Prompts unconditional(int32_t start_token, int64_t n) { return {start_token, {{}}, n, 0, 0}; }
  int64_t rows() const { return int64_t(contexts.size()) * per_context; }
};

// The rows of a decode in groups whose contexts have one length, so a group shares one KV-cache
// length: up to `batch` output row indices per group, each row's context, and how many tokens
// the group may generate (`length`, or fewer where the context leaves less room in max_len).
struct RowGroup {
  std::vector<size_t> rows;
  std::vector<const std::vector<int32_t>*> contexts;
  int64_t length;
  // Philox addressing: row k of the group draws word (stream_row + k) of the counters
  // t·stream_stride … at token position t (stream_row a multiple of 4; stride = ⌈draw rows/4⌉).
  uint64_t stream_row = 0, stream_stride = 0;
  uint64_t offset(int64_t t) const { return uint64_t(t) * stream_stride + stream_row / 4; }
};
std::vector<RowGroup> group_rows(const Prompts& prompts, int64_t length, int64_t max_len, int64_t batch);

// Fills a fresh KV cache with each row's start token + context (one call) and returns the logits
// [B, V] for the first generated token.
Tensor prefill(const Generator& g, const RowGroup& group, int32_t start_token, Generator::Cache& cache);

// Up to `length` tokens after each prompt, drawn from q̂ (cfg) with Philox `seed`. A sequence ends
// with its first `eos` (kept; −1: fixed length), and its log p and log q̂ sum over the tokens up to
// and including it.
SampledSet sample_sequences(const Generator& g, const Prompts& prompts, int64_t length, const SamplingConfig& cfg,
                            uint64_t seed, int32_t eos = -1, int64_t batch = 256);

// Monte-Carlo tree search guided by p·D (SelfGAN, Scialom et al. 2021; PPL-MCTS, Chaffin et al.
// 2022). Per emitted token, `simulations` times: descend by PUCT
//   argmax_a Q(s,a) + c_puct · π(a|s) · √max(1, Σ_b N(s,b)) / (1 + N(s,a)),
// π the generator's distribution at `temperature` cut to its top_k tokens and top_p nucleus; an
// unvisited child's Q is its parent's (so a D that says nothing leaves the prior in charge); the
// leaf's value is D(prefix) (no rollout), backed up along the path as a running mean or max.
struct MctsConfig {
  int64_t simulations = 50;       // per emitted token
  double c_puct = 8.0;
  int64_t top_k = 50;             // children per node (0: the whole vocabulary)
  double top_p = 1.0;
  double temperature = 1.0;       // of the prior π
  std::string backup = "mean";    // mean (PPL-MCTS) | max (SelfGAN: Q ← max(Q, value))
  // 0: emit the most-visited child (deterministic); τ > 0: sample it with probability ∝ N^(1/τ),
  // and log q̂ of the sequence is Σ_t log of that probability (importance weights for GCN).
  double visit_temperature = 0.0;
  // ε: with visit_temperature > 0, the emitted token is drawn from (1 − ε)·visits + ε·π, so q̂
  // keeps mass on every child the search left unvisited (defensive importance sampling,
  // Hesterberg 1995): with 10 simulations the visits alone cover at most 10 tokens.
  double prior_mix = 0.0;
  template <class V> void visit(V& v) {
    v("simulations", simulations);
    v("c_puct", c_puct);
    v("top_k", top_k);
    v("top_p", top_p);
    v("temperature", temperature);
    v.one_of("backup", backup, {"mean", "max"});
    v("visit_temperature", visit_temperature);
    v("prior_mix", prior_mix);
  }
};

// Discriminator-guided beam search (DAS, Scialom et al. 2020): each beam proposes `candidates`
// tokens (its most likely ones, or with `sample` a Gumbel-top-k draw from p, i.e. without
// replacement), and the beams kept are the best by log p(prefix) + λ log D(prefix). λ = 0 is
// plain beam search.
struct DasConfig {
  int64_t beams = 4;
  int64_t candidates = 8;  // per beam
  double lambda = 1.0;
  bool sample = false;     // stochastic candidates: different outputs from one start
  template <class V> void visit(V& v) {
    v("beams", beams);
    v("candidates", candidates);
    v("lambda", lambda);
    v("sample", sample);
  }
};

// The guided proposal, token by token: q̂(v | y_<t) ∝ p(v | y_<t) · D(y_<t v). With a guide that
// scores the whole vocabulary (the oracle's exact D*) every token is scored; a learned D scores the
// `candidates` most likely tokens of p (one discriminator call over rows × candidates prefixes per
// step) and the rest of the vocabulary keeps its probability under p:
//   q̂(v) = m_K · p(v)D(v) / Σ_{u∈K} p(u)D(u) for v ∈ K,   q̂(v) = p(v) otherwise,   m_K = Σ_{u∈K} p(u).
// log q̂ of the drawn token is exact, so GCN's importance weights p·D/q̂ are too.
struct GuidedConfig {
  int64_t candidates = 16;
  template <class V> void visit(V& v) { v("candidates", candidates, Range{1, kUnbounded}); }
};

// Reranking (the residual energy-based decoder of Bakhtin, Deng, Ranzato et al. 2019–2021): draw
// `candidates` continuations from the sampling section's q̂, weigh each by w = p·D/q̂, keep the
// best (argmax) or draw one ∝ w (resample: sampling-importance-resampling, Rubin 1988, whose
// output approaches q ∝ p·D as candidates grow). As a GCN proposal (importance weights) the kept
// candidate's weight is the SIR one, the mean of its row's candidate weights (docs/method.md).
struct RerankConfig {
  int64_t candidates = 16;
  std::string mode = "resample";
  template <class V> void visit(V& v) {
    v("candidates", candidates, Range{1, kUnbounded});
    v.one_of("mode", mode, {"argmax", "resample"});
  }
};

// Which decoder `coopgen sample` uses and, for method gcn, which proposal q̂ the samples come from.
struct DecodingConfig {
  // sample (the sampling/proposal section) | mcts | das | guided | rerank
  std::string decoder = "sample";
  // GCN's weights on a cooperative decoder's output: importance (wᵢ ∝ p·D/q̂: MCTS with
  // visit_temperature > 0, guided, rerank with resampling) or uniform (SelfGAN: the output taken
  // as a sample of q).
  std::string weights = "uniform";
  MctsConfig mcts;
  DasConfig das;
  GuidedConfig guided;
  RerankConfig rerank;
  template <class V> void visit(V& v) {
    v.one_of("decoder", decoder, {"sample", "mcts", "das", "guided", "rerank"});
    v.one_of("weights", weights, {"importance", "uniform"});
    v("mcts", mcts);
    v("das", das);
    v("guided", guided);
    v("rerank", rerank);
  }
};

// The discriminator as the decoders use it: its logits x (D = σ(x)) on a batch of sequences or
// unfinished prefixes and, where it has one, its own guide for the guided decoder (the oracle's
// exact D*: every token scored at once). Without a guide the guided decoder scores candidates
// through `logits`.
struct PrefixScorer {
  using Logits = std::function<std::vector<double>(const Sequences&)>;
  // A guide for one decode of rows continuing these contexts.
  using Guide = std::function<std::unique_ptr<PrefixGuide>(const std::vector<const std::vector<int32_t>*>& contexts)>;
  Logits logits;
  Guide guide;
  PrefixScorer() = default;
  template <class F>
    requires std::is_invocable_r_v<std::vector<double>, F, const Sequences&>
  PrefixScorer(F f) : logits(std::move(f)) {}  // NOLINT: a plain scoring function converts
  std::vector<double> operator()(const Sequences& seqs) const { return logits(seqs); }
  explicit operator bool() const { return bool(logits); }
};

// Token ids in decreasing order of score[0..V), the first k (k ≤ 0: all); ties by id.
template <class T> std::vector<int32_t> top_tokens(const T* score, int64_t V, int64_t k);

// Continuations by MCTS, as sample_sequences: log p sums the model's own log-probabilities, log q̂
// the log visit probabilities of the emitted tokens (0 when emitting the most visited).
SampledSet mcts_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                          const MctsConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 256);

// Continuations by DAS, each the best of its own beam search; log p as above, log q̂ = 0 (a beam
// search is deterministic; with sampled candidates q̂ has no closed form).
SampledSet das_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                         const DasConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 64);

// Continuations by the guided proposal (GuidedConfig), as sample_sequences: log p under the model,
// log q̂ under the guided distribution actually drawn from.
SampledSet guided_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const GuidedConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 256);

// The candidate a row keeps given its candidates' log-weights log wⱼ (log p + log D − log q̂):
// the largest, or with `resample` the one whose cumulative weight first exceeds u·Σw, u ∈ [0, 1).
size_t rerank_pick(const std::vector<double>& log_w, bool resample, double u);

// Continuations by reranking (RerankConfig) candidates drawn from q̂ = `proposal`; log p of the
// kept one, and log q̂ such that p·D/q̂ is its SIR weight (resample) or 0 (argmax: no q̂).
SampledSet rerank_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const SamplingConfig& proposal, const RerankConfig& cfg, uint64_t seed, int32_t eos = -1,
                            int64_t batch = 256);

}  // namespace coopgen
