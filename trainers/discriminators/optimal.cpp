// discriminator.kind optimal: the oracle task's exact D* = p*/(p* + p) of the current generator
// (models/optimal_discriminator.h), with its logit noise and scale; never trained, no parameters.
#include "core/error.h"
#include "engine/random.h"
#include "models/optimal_discriminator.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/loop/run_config.h"

namespace coopgen {

namespace {

class Optimal final : public Discriminator {
 public:
  explicit Optimal(const DiscriminatorContext& c)
      : d_(*c.task.data_model(), c.g, c.task.start_token, c.cfg.discriminator.logit_scale, c.cfg.discriminator.logit_noise,
           random::stream(c.cfg.seed, 0, 9)) {}
  std::vector<double> logits(const Sequences& seqs) const override { return d_.logits(seqs); }
  PrefixScorer scorer() const override {
    PrefixScorer s = Discriminator::scorer();
    s.guide = [this](const std::vector<const std::vector<int32_t>*>& contexts) { return d_.guide(int64_t(contexts.size())); };
    return s;
  }
  std::string describe() const override {
    return cat("the optimal D* = p*/(p* + p) of the oracle, logit scale ", d_.scale(), ", noise ", d_.noise_sd(),
               " (not trained)");
  }

 private:
  OptimalDiscriminator d_;
};

}  // namespace

DiscriminatorKind discriminator_optimal() {
  DiscriminatorKind k{"optimal", "the oracle's exact D* = p*/(p* + p) of the current generator (discriminator.logit_noise, logit_scale)",
                      [](const DiscriminatorContext& c) -> std::unique_ptr<Discriminator> {
                        if (!c.task.data_model())
                          fail("discriminator.kind optimal needs the oracle task (data.task is ", name_of(c.cfg.data.task), ")");
                        return std::make_unique<Optimal>(c);
                      },
                      nullptr, nullptr};
  k.check = [](const RunConfig& cfg) {
    if (cfg.data.task != TaskKind::oracle)
      fail("discriminator.kind optimal: D* = p*/(p* + p) needs the data distribution p*, known only on the oracle task "
           "(data.task is ", name_of(cfg.data.task), ")");
  };
  k.check_unused = [](const RunConfig& cfg) {
    if (cfg.discriminator.logit_noise > 0)
      fail("discriminator.logit_noise (", cfg.discriminator.logit_noise, ") applies to discriminator.kind optimal only");
    if (cfg.discriminator.logit_scale != 1.0)
      fail("discriminator.logit_scale (", cfg.discriminator.logit_scale, ") applies to discriminator.kind optimal only");
  };
  return k;
}

}  // namespace coopgen
