// Candidates from the sampler reranked by p·D/q̂ (trainers/decoding/rerank.cpp).
#pragma once
#include <string>

#include "trainers/decoding/decoding.h"

namespace coopgen {

// Reranking (the residual energy-based decoder of Bakhtin, Deng, Ranzato et al. 2019–2021): draw
// `candidates` continuations from the sampling section's q̂, weigh each by w = p·D/q̂, keep the
// best (argmax) or draw one ∝ w (resample: sampling-importance-resampling, Rubin 1988, whose
// output approaches q ∝ p·D as candidates grow). As a GCN proposal (importance weights) the kept
// candidate's weight is the SIR one, the mean of its row's candidate weights (docs/method.md).
enum class RerankMode { argmax, resample };
constexpr std::array<const char*, 2> config_names(RerankMode) { return {"argmax", "resample"}; }
struct RerankConfig {
  int64_t candidates = 16;
  RerankMode mode = RerankMode::resample;
  template <class V> void visit(V& v) {
    v("candidates", candidates, Range{1, kMaxBatch});
    v("mode", mode);
  }
};

// The candidate a row keeps given its candidates' log-weights log wⱼ (log p + log D − log q̂):
// the largest, or with `resample` the one whose cumulative weight first exceeds u·Σw, u ∈ [0, 1).
size_t rerank_pick(const std::vector<double>& log_w, bool resample, double u);

// Continuations by reranking (RerankConfig) candidates drawn from q̂ = `proposal`; log p of the
// kept one, and log q̂ such that p·D/q̂ is its SIR weight (resample) or 0 (argmax: no q̂).
SampledSet rerank_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const SamplingConfig& proposal, const RerankConfig& cfg, uint64_t seed, int32_t eos = -1,
                            int64_t batch = 256);

}  // namespace coopgen
