#include "trainers/methods/strategies.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

#include "engine/logspace.h"
#include "trainers/methods/weights.h"

namespace coopgen {

namespace {

// GAN: REINFORCE with the reward D(y) on samples from p.
WeightedSamples gan_weigh(SampledSet drawn, const std::vector<double>& x, const AdversarialConfig& cfg, uint64_t) {
  std::vector<double> d(x.size());
  std::transform(x.begin(), x.end(), d.begin(), logistic);
  WeightedSamples out{std::move(drawn.seqs), reinforce_weights(d, drawn.logp, cfg.baseline, cfg.entropy_bonus), {}};
  return out;
}

// RML-GAN: N candidates from q̂, M of them resampled with probability ∝ q/q̂ (approximately
// samples of q), then plain MLE on them.
WeightedSamples rml_gan_weigh(SampledSet drawn, const std::vector<double>& x, const AdversarialConfig& cfg, uint64_t seed) {
  const std::vector<double> w = self_normalise(log_importance_weights(drawn.logp, drawn.logq, x, cfg.target));
  const std::vector<size_t> picked = resample(w, cfg.samples, seed);
  WeightedSamples out;
  for (size_t i : picked) out.seqs.push_back(drawn.seqs[i]);
  out.w.assign(picked.size(), 1.0 / double(picked.size()));
  out.stats = {{"ess", effective_sample_size(w)},
               {"distinct", double(std::set<size_t>(picked.begin(), picked.end()).size())}};
  return out;
}

// GCN: self-normalised importance weights wᵢ ∝ q(yᵢ)/q̂(yᵢ) on the M samples of q̂. With the
// baseline, minus the weights vᵢ ∝ p(yᵢ)/q̂(yᵢ) of p itself: Σ vᵢ ∇log p(yᵢ) estimates
// E_p[∇log p] = 0, so the expected step is unchanged and the self-training noise is removed.
WeightedSamples gcn_weigh(SampledSet drawn, const std::vector<double>& x, const AdversarialConfig& cfg, uint64_t) {
  WeightedSamples out{std::move(drawn.seqs), self_normalise(log_importance_weights(drawn.logp, drawn.logq, x, cfg.target)), {}};
  out.stats = {{"ess", effective_sample_size(out.w)}};
  if (cfg.baseline) {
    const std::vector<double> v = self_normalise(log_importance_weights(drawn.logp, drawn.logq, {}, Target::p));
    for (size_t i = 0; i < v.size(); ++i) out.w[i] -= v[i];
  }
  return out;
}

// GCN on the output of a cooperative decoder taken as a sample of q itself (SelfGAN's choice):
// uniform weights. Logged: how many of the M sequences are distinct.
WeightedSamples uniform_weigh(SampledSet drawn, const std::vector<double>&, const AdversarialConfig&, uint64_t) {
  const size_t m = drawn.seqs.size();
  const double distinct = double(std::set<std::vector<int32_t>>(drawn.seqs.begin(), drawn.seqs.end()).size());
  WeightedSamples out{std::move(drawn.seqs), std::vector<double>(m, 1.0 / double(m)), {}};
  out.stats = {{"ess", double(m)}, {"distinct", distinct}};
  return out;
}

}  // namespace

Strategy strategy_for(const RunConfig& cfg) {
  const AdversarialConfig& a = cfg.adversarial;
  if (a.samples < 1) fail("adversarial.samples (", a.samples, ") must be at least 1");
  const DecodingConfig& dec = cfg.decoding;
  const DecoderKind& decoder = decoder_named(dec.decoder);
  if (decoder.cooperative && cfg.method != Method::gcn)
    fail("decoding.decoder ", dec.decoder, ": cooperative decoders are proposals of method gcn only (", name_of(cfg.method),
         " samples with the sampler)");
  switch (cfg.method) {
    case Method::mle: break;
    case Method::gan:
      if (!a.proposal.is_p())
        fail("adversarial.proposal: GAN's policy gradient needs samples from p itself (temperature 1, ",
             SamplingConfig::rules_off(), ")");
      return {a.samples, gan_weigh};
    case Method::rml_gan:
      if (a.candidates < a.samples)
        fail("adversarial.candidates (", a.candidates, ") must be at least adversarial.samples (", a.samples, ")");
      return {a.candidates, rml_gan_weigh};
    case Method::gcn:
      if (decoder.check_proposal) decoder.check_proposal(dec);
      if (decoder.cooperative && dec.weights == DecodeWeights::uniform) return {a.samples, uniform_weigh};
      return {a.samples, gcn_weigh};
  }
  fail("method mle is not an adversarial method (gan | rml_gan | gcn)");
}

WeightedSamples weigh_per_context(const Strategy& strategy, SampledSet drawn, const std::vector<double>& d_logits,
                                  int64_t per_context, const AdversarialConfig& cfg, uint64_t seed) {
  const size_t per = size_t(per_context), groups = drawn.seqs.size() / per;
  CG_CHECK(per >= 1 && groups * per == drawn.seqs.size() && d_logits.size() == drawn.seqs.size(), "weights: ",
           drawn.seqs.size(), " samples in groups of ", per);
  if (groups == 1) return strategy.weigh(std::move(drawn), d_logits, cfg, seed);
  WeightedSamples out;
  for (size_t g = 0; g < groups; ++g) {
    const long a = long(g * per), b = long((g + 1) * per);
    SampledSet part{Sequences(std::make_move_iterator(drawn.seqs.begin() + a), std::make_move_iterator(drawn.seqs.begin() + b)),
                    {drawn.logp.begin() + a, drawn.logp.begin() + b}, {drawn.logq.begin() + a, drawn.logq.begin() + b}};
    WeightedSamples w = strategy.weigh(std::move(part), {d_logits.begin() + a, d_logits.begin() + b}, cfg,
                                       seed ^ (uint64_t(g) * 0x9e3779b97f4a7c15ull));
    for (double v : w.w) out.w.push_back(v / double(groups));
    std::move(w.seqs.begin(), w.seqs.end(), std::back_inserter(out.seqs));
    if (g == 0) out.stats.assign(w.stats.size(), {"", 0.0});
    for (size_t k = 0; k < w.stats.size(); ++k) out.stats[k] = {w.stats[k].first, out.stats[k].second + w.stats[k].second / double(groups)};
  }
  return out;
}

}  // namespace coopgen
