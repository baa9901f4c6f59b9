// Reranking (trainers/decoding/decoding.h, RerankConfig): every output row draws N candidates from q̂ with
// the sampler, D scores them all in one call, and each row keeps one of its N.
#include <cmath>

#include "core/error.h"
#include "engine/logspace.h"
#include "engine/random.h"
#include "trainers/decoding/decoders.h"
#include "trainers/decoding/rerank.h"

namespace coopgen {

size_t rerank_pick(const std::vector<double>& log_w, bool resample, double u) {
  CG_CHECK(!log_w.empty(), "rerank: no candidates");
  size_t best = 0;
  for (size_t j = 1; j < log_w.size(); ++j)
    if (log_w[j] > log_w[best]) best = j;
  if (!resample || !std::isfinite(log_w[best])) return best;
  double total = 0;
  for (double lw : log_w) total += std::exp(lw - log_w[best]);
  double acc = 0;
  for (size_t j = 0; j < log_w.size(); ++j) {
    acc += std::exp(log_w[j] - log_w[best]);
    if (acc > u * total) return j;
  }
  return best;  // rounding at the top end
}

SampledSet rerank_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const SamplingConfig& proposal, const RerankConfig& cfg, uint64_t seed, int32_t eos,
                            int64_t batch) {
  CG_CHECK(bool(d), "decoder rerank: no discriminator to rerank with");
  CG_CHECK(cfg.candidates >= 1, "decoding.rerank.candidates (", cfg.candidates, ") must be at least 1");
  const size_t N = size_t(cfg.candidates), n = size_t(prompts.rows());
  // Output row i's candidates are rows i·N … i·N + N − 1 of one wider draw (rows are context-major).
  Prompts wide = prompts;
  wide.per_context *= int64_t(N), wide.first_row *= int64_t(N), wide.stream_rows *= int64_t(N);
  SampledSet c = sample_sequences(g, wide, length, proposal, seed, eos, batch);
  Sequences scored(c.seqs.size());
  for (size_t k = 0; k < scored.size(); ++k) {
    scored[k] = prompts.contexts[k / size_t(wide.per_context)];
    scored[k].insert(scored[k].end(), c.seqs[k].begin(), c.seqs[k].end());
  }
  const std::vector<double> x = d(scored);
  const bool resample = cfg.mode == RerankMode::resample;
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> log_w(N);
    for (size_t j = 0; j < N; ++j) log_w[j] = c.logp[i * N + j] - c.logq[i * N + j] + log_sigmoid(x[i * N + j]);
    // u per row of the whole draw (first_row: this shard's place in it), independent of the sampler's stream.
    const double u = random::uniform(random::stream(seed, prompts.first_row + int64_t(i), 0x5e1ec7));
    const size_t k = i * N + rerank_pick(log_w, resample, u);
    out.seqs[i] = std::move(c.seqs[k]);
    out.logp[i] = c.logp[k];
    // Resampling: p·D/q̂ of the output is to be Ẑ = (1/N) Σⱼ wⱼ (a properly weighted sample of q,
    // Liu 2001), so log q̂ := log p + log D − log Ẑ. Argmax has no q̂: 0, as for beam search.
    out.logq[i] = resample ? c.logp[k] + log_sigmoid(x[k]) - (log_sum_exp(log_w) - std::log(double(N))) : 0.0;
  }
  return out;
}

DecoderKind decoder_rerank() {
  return {"rerank", "the sampler's draws reranked by p·D/q̂ (decoding.rerank)", true,
          [](const DecodeCall& c) {
            return rerank_sequences(c.g, c.d, c.prompts, c.length, c.proposal, c.dec.rerank, c.seed, c.eos);
          },
          [](const DecodingConfig& dec) {
            if (dec.rerank.mode == RerankMode::argmax && dec.weights == DecodeWeights::importance)
              fail("decoding.weights importance needs q̂(y), which reranking by argmax has not: use decoding.rerank.mode "
                   "resample or decoding.weights uniform");
          }};
}

}  // namespace coopgen
