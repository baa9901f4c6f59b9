// The three methods with a discriminator differ only in their strategy: which samples a generator
// step trains on, and with which weights (docs/method.md, "The strategies"):
//   GAN       REINFORCE with the reward D(y) on samples from p (optionally minus the mean reward);
//   RML-GAN   N candidates from q̂, M of them resampled ∝ q/q̂, plain MLE on them;
//   GCN       self-normalised importance weights wᵢ ∝ q(yᵢ)/q̂(yᵢ), q ∝ p·D (or p·D/(1−D)), on M
//             samples of q̂ (the sampler, or a cooperative decoder with importance or uniform weights).
// The weights themselves are plain functions in trainers/methods/weights.h.
#pragma once
#include <cstdint>
#include <vector>

#include "trainers/loop/run_config.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

// The samples a generator step trains on and their weights wᵢ, with the method's statistics.
struct WeightedSamples {
  Sequences seqs;
  std::vector<double> w;
  Metrics stats;
};
// One method's strategy: `draws` sequences from the proposal, then `weigh` them given D's logits.
struct Strategy {
  int64_t draws;
  WeightedSamples (*weigh)(SampledSet drawn, const std::vector<double>& d_logits, const AdversarialConfig& cfg,
                           uint64_t seed);
};
// The strategy of cfg.method; a config the method cannot honour is an error naming the key.
Strategy strategy_for(const RunConfig& cfg);

// The strategy applied to each context's `per_context` consecutive samples on its own (weights
// normalised per source, as conditional generation needs: p(y|x) is a distribution per x), each
// group's weights then scaled by 1/groups; the statistics are means over groups. One group is
// the strategy itself.
WeightedSamples weigh_per_context(const Strategy& strategy, SampledSet drawn, const std::vector<double>& d_logits,
                                  int64_t per_context, const AdversarialConfig& cfg, uint64_t seed);

}  // namespace coopgen
