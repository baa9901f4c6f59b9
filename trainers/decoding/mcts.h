// Monte-Carlo tree search over p·D (trainers/decoding/mcts.cpp).
#pragma once
#include <string>

#include "trainers/decoding/decoding.h"

namespace coopgen {

// Monte-Carlo tree search guided by p·D (SelfGAN, Scialom et al. 2021; PPL-MCTS, Chaffin et al.
// 2022). Per emitted token, `simulations` times: descend by PUCT
//   argmax_a Q(s,a) + c_puct · π(a|s) · √max(1, Σ_b N(s,b)) / (1 + N(s,a)),
// π the generator's distribution at `temperature` cut to its top_k tokens and top_p nucleus; an
// unvisited child's Q is its parent's (so a D that says nothing leaves the prior in charge); the
// leaf's value is D(prefix) (no rollout), backed up along the path as a running mean or max.
// How a simulation's value updates the nodes on its path: mean (PPL-MCTS: Q the running mean) or
// max (SelfGAN: Q ← max(Q, value)).
enum class MctsBackup { mean, max };
constexpr std::array<const char*, 2> config_names(MctsBackup) { return {"mean", "max"}; }

struct MctsConfig {
  int64_t simulations = 50;       // per emitted token
  double c_puct = 8.0;
  int64_t top_k = 50;             // children per node (0: the whole vocabulary)
  double top_p = 1.0;
  double temperature = 1.0;       // of the prior π
  MctsBackup backup = MctsBackup::mean;
  // 0: emit the most-visited child (deterministic); τ > 0: sample it with probability ∝ N^(1/τ),
  // and log q̂ of the sequence is Σ_t log of that probability (importance weights for GCN).
  double visit_temperature = 0.0;
  // ε: with visit_temperature > 0, the emitted token is drawn from (1 − ε)·visits + ε·π, so q̂
  // keeps mass on every child the search left unvisited (defensive importance sampling,
  // Hesterberg 1995): with 10 simulations the visits alone cover at most 10 tokens.
  double prior_mix = 0.0;
  template <class V> void visit(V& v) {
    v("simulations", simulations, Range{1, kMaxBatch});
    v("c_puct", c_puct, Range{0, kUnbounded});
    v("top_k", top_k, Range{0, double(kMaxVocab)});
    v("top_p", top_p, Range{0, 1, true});
    v("temperature", temperature, Range{0, kUnbounded, true});
    v("backup", backup);
    v("visit_temperature", visit_temperature, Range{0, kUnbounded});
    v("prior_mix", prior_mix, Range{0, 1});
  }
};

// Continuations by MCTS, as sample_sequences: log p sums the model's own log-probabilities, log q̂
// the log visit probabilities of the emitted tokens (0 when emitting the most visited).
SampledSet mcts_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                          const MctsConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 256);

}  // namespace coopgen
