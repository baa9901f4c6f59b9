// GAN, RML-GAN and GCN on one loop (trainers/loop.h). Each generator step trains the
// discriminator for k steps (real data against fakes from p), draws samples from a proposal,
// scores them with D, and takes one reward-weighted log-prob step through `weighted_logprob`:
//   loss = −Σᵢ wᵢ log p(yᵢ) / L̄  (+ λ · cross-entropy on real data),
// L̄ the mean length of the samples, so the learning rate means what it means for MLE. The methods
// differ only in their strategy: which samples, and which weights (trainers/weights.h).
#pragma once
#include <memory>

#include "engine/optim.h"
#include "models/discriminator.h"
#include "models/optimal_discriminator.h"
#include "trainers/run_config.h"
#include "trainers/tasks.h"

namespace coopgen {

// Trains cfg.method (gan | rml_gan | gcn) from model.init, or resumes from
// <run_dir>/checkpoint; returns the exit code.
int train_adversarial(const RunConfig& cfg, bool resume);

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

// One generator step on weighted samples: loss = −Σ wᵢ log p(yᵢ) / L̄, plus λ · cross-entropy on
// `real_rows` of the task's training data when λ = mle_weight > 0; backward; AdamW.
struct GeneratorStep {
  double loss, grad_norm, tokens;
};
GeneratorStep weighted_generator_step(Generator& g, AdamW& opt, const Task& task, const WeightedSamples& ws,
                                      double mle_weight, const std::vector<size_t>& real_rows);

// The discriminator of an adversarial run's checkpoint folder, built as cfg.discriminator says; a
// checkpoint without one (an MLE run's) is an error naming the folder and `why` it was wanted.
std::unique_ptr<Discriminator> load_discriminator(const RunConfig& cfg, const std::string& dir, int64_t vocab,
                                                  const std::string& why);

// D as a run uses it (discriminator.kind): the learned discriminator `learned`, or the oracle task's
// exact D* against the generator `g` (OptimalDiscriminator; logit noise and seed from the config).
// Both models must outlive it.
class RunDiscriminator {
 public:
  RunDiscriminator(const RunConfig& cfg, const Task& task, const Generator& g, const Discriminator* learned);
  bool optimal() const { return bool(optimal_); }
  // D's logits on sequences or unfinished prefixes (context included).
  std::vector<double> logits(const Sequences& seqs) const;
  // The decoders' view: these logits and, for D*, its exact guide.
  PrefixScorer scorer() const;

 private:
  const Discriminator* learned_;
  int32_t pad_;
  Device device_;
  std::unique_ptr<OptimalDiscriminator> optimal_;
};


}  // namespace coopgen
