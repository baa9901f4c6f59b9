// The training loop of the methods with a discriminator, GAN, RML-GAN and GCN, on the shared run
// loop (trainers/loop/loop.h). Each generator step trains the discriminator for k steps (real data
// against fakes from p; none for the oracle's exact D*), draws samples from a proposal, scores
// them with D, and takes one reward-weighted log-prob step through `weighted_logprob`:
//   loss = −Σᵢ wᵢ log p(yᵢ) / L̄  (+ λ · cross-entropy on real data),
// L̄ the mean length of the samples, so the learning rate means what it means for MLE. The methods
// differ only in their strategy: which samples, and which weights (trainers/methods/strategies.h).
#pragma once
#include <memory>

#include "engine/optim.h"
#include "models/discriminator.h"
#include "models/optimal_discriminator.h"
#include "trainers/loop/loop.h"
#include "trainers/loop/run_config.h"
#include "trainers/loop/tasks.h"
#include "trainers/methods/strategies.h"

namespace coopgen {

// Trains cfg.method (gan | rml_gan | gcn) from model.init, or resumes from
// <run_dir>/checkpoint; returns the exit code.
int train_with_discriminator(const RunConfig& cfg, RunStart start);

// One generator step on weighted samples: loss = −Σ wᵢ log p(yᵢ) / L̄, plus λ · cross-entropy on
// `real_rows` of the task's training data when λ = mle_weight > 0; backward; AdamW. The loss is
// read back (a host synchronisation) only with `read_loss` (NaN otherwise).
struct GeneratorStep {
  double loss, grad_norm, tokens;
};
// dropout_seed: the training pass's masks (mle.h's dropout_seed; the MLE term takes its own stream).
GeneratorStep weighted_generator_step(Generator& g, AdamW& opt, const Task& task, const WeightedSamples& ws,
                                      double mle_weight, const std::vector<size_t>& real_rows, bool read_loss = true,
                                      std::optional<uint64_t> dropout_seed = std::nullopt);

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
