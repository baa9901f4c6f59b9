// The proposal guided by D on prefixes, token by token (trainers/decoding/guided.cpp).
#pragma once
#include "trainers/decoding/decoding.h"

namespace coopgen {

// The guided proposal, token by token: q̂(v | y_<t) ∝ p(v | y_<t) · D(y_<t v). With a guide that
// scores the whole vocabulary (the oracle's exact D*) every token is scored; a learned D scores the
// `candidates` most likely tokens of p (one discriminator call over rows × candidates prefixes per
// step) and the rest of the vocabulary keeps its probability under p:
//   q̂(v) = m_K · p(v)D(v) / Σ_{u∈K} p(u)D(u) for v ∈ K,   q̂(v) = p(v) otherwise,   m_K = Σ_{u∈K} p(u).
// log q̂ of the drawn token is exact, so GCN's importance weights p·D/q̂ are too.
struct GuidedConfig {
  int64_t candidates = 16;
  template <class V> void visit(V& v) { v("candidates", candidates, Range{1, kMaxBatch}); }
};

// Continuations by the guided proposal (GuidedConfig), as sample_sequences: log p under the model,
// log q̂ under the guided distribution actually drawn from.
SampledSet guided_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const GuidedConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 256);

}  // namespace coopgen
