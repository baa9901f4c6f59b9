// discriminator.kind learned: a transformer classifier (models/discriminator.h) trained with
// binary cross-entropy on real against generated sequences, as the discriminator section says.
#include <cmath>
#include <map>
#include <set>

#include "engine/communicator.h"
#include "engine/io.h"
#include "engine/ops.h"
#include "models/discriminator.h"
#include "models/gpt2.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/loop/run_config.h"
#include "trainers/methods/mle.h"

namespace coopgen {

namespace {

class LearnedDiscriminator final : public Discriminator {
 public:
  explicit LearnedDiscriminator(const DiscriminatorContext& c)
      : cfg_(c.cfg),
        g_(c.g),
        pad_(c.task.pad),
        d_(cfg_.discriminator.model, c.task.vocab, cfg_.seed ^ 0xd15c0ull, cfg_.device, cfg_.discriminator.causal,
           cfg_.precision) {
    if (!c.checkpoint.empty()) {  // a trained D to decode with
      load_trained_discriminator(d_.params(), c, "disc.wte", "discriminator");
      return;
    }
    const auto& dm = cfg_.discriminator.model;
    int64_t longest = c.task.sample_length;
    for (const auto& s : c.task.train) longest = std::max<int64_t>(longest, int64_t(s.size()));
    if (dm.max_len < longest)
      fail("discriminator.model.max_len (", dm.max_len, ") is shorter than the task's sequences (", longest, " tokens)");
    check_init_from_generator(cfg_);
    opt_.emplace(d_.params(), cfg_.discriminator.optim,
                 dist::reducer_for(tensors_of(d_.params()), cfg_.distributed.bucket_mb));
  }

  std::vector<double> logits(const Sequences& seqs) const override {
    return discriminator_logits(d_, seqs, pad_, g_.device());
  }
  PrefixScorer scorer() const override { return learned_scorer(d_, pad_, g_.device()); }
  std::string describe() const override {
    const auto& m = cfg_.discriminator.model;
    return cat("a learned ", d_.causal() ? "causal" : "bidirectional", " transformer D (", m.layers, " layers, d_model ",
               m.d_model, ")");
  }
  std::optional<Trained> trained() override {
    CG_CHECK(opt_.has_value(), "a discriminator read for decoding is not trained");
    return Trained{&d_.params(), &*opt_};
  }

  void initialise() override {
    if (cfg_.discriminator.init_from_generator) {  // "disc.<name>" ← "<name>"; the head stays fresh
      std::map<std::string, Tensor> from_g;
      for (const auto& [name, t] : g_.params()) from_g["disc." + name] = t;
      NamedTensors body;
      for (auto& [name, t] : d_.params())
        if (!name.starts_with("disc.head.")) body.emplace_back(name, t);
      load_params(body, from_g, "the generator (discriminator.init_from_generator)");
    }
    if (const CheckpointRef& from = cfg_.discriminator.init_checkpoint; !from.empty()) {
      if (from.format == CheckpointRef::Format::hf_gpt2) load_gpt2_weights(d_.params(), "disc.", from.dir);  // a fresh head
      else load_discriminator_params(d_.params(), load_checkpoint(from.dir, nullptr), from.dir);
      std::fprintf(stderr, "discriminator initialised from %s\n", from.str().c_str());
    }
  }

  Metrics train_step(const DiscriminatorBatch& batch, int64_t index, uint64_t seed) override {
    std::vector<float> labels(batch.seqs.size(), 0.0f);
    std::fill(labels.begin(), labels.begin() + long(batch.real), 1.0f);
    Tensor ids, mask;
    pack_sequences(batch.seqs, pad_, g_.device(), ids, mask);
    Tensor logits = d_.forward(ids, mask, dropout_seed(seed, index, 2));
    const double share = double(batch.seqs.size()) / double(batch.whole);
    Tensor loss = scale(bce_with_logits(logits, Tensor::from(labels, {int64_t(labels.size())}, g_.device())), share);
    double correct = 0;
    const std::vector<float> x = logits.to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i) correct += (x[i] > 0) == (labels[i] > 0.5f);
    std::vector<double> totals{loss.item(), correct};
    dist::all_reduce_sum(totals);
    if (!std::isfinite(totals[0])) fail("discriminator step ", index + 1, ": loss is ", totals[0]);
    loss.backward();
    opt_->step();
    opt_->zero_grad();
    return {{"d_loss", totals[0]}, {"d_acc", totals[1] / double(batch.whole)}};
  }

 private:
  const RunConfig& cfg_;
  const Generator& g_;
  int32_t pad_;
  TransformerDiscriminator d_;
  std::optional<AdamW> opt_;  // a training run's (none when read for decoding)
};

}  // namespace

DiscriminatorKind discriminator_learned() {
  return {"learned", "a transformer classifier trained on real against generated sequences (discriminator.model)",
          [](const DiscriminatorContext& c) { return std::make_unique<LearnedDiscriminator>(c); }, nullptr, nullptr};
}

}  // namespace coopgen
