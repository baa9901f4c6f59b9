// discriminator.kind likelihood_ratio: D's logit is the log-ratio of a second language model p_φ
// (a transformer generator of shape discriminator.model, inside D) to the generator p judged,
//     x(y) = log p_φ(y) − log p(y) + b,
// the form of D* = p*/(p* + p), whose logit is log p*(y) − log p(y): with p_φ = p* this D is D*
// (b = 0). p_φ starts from the generator (discriminator.init_from_generator: x = b at the start)
// or from a checkpoint's generator (discriminator.init_checkpoint, e.g. an MLE run with another
// seed), and φ, b are trained by binary cross-entropy on real sequences against samples, as the
// classifier is; p stays fixed inside D. The gradient of the batch-mean loss L is
//     ∂L/∂φ = (1/N) Σᵢ (σ(xᵢ) − labelᵢ) ∇_φ log p_φ(yᵢ),   ∂L/∂b = (1/N) Σᵢ (σ(xᵢ) − labelᵢ),
// taken through p_φ's reward-weighted log-prob with weights −(σ(xᵢ) − labelᵢ)/N. Prefix scores are
// exact ratios of prefix probabilities, so the guided proposal scores every next token at once
// (one p_φ step per token over the batch, its keys and values cached), as it does with D*.
// Unconditional tasks (the oracle, text): a conditional task's ratio would need p_φ to read the
// source as the generator does.
#include <cmath>
#include <map>

#include "engine/communicator.h"
#include "engine/io.h"
#include "engine/logspace.h"
#include "engine/ops.h"
#include "trainers/discriminators/discriminator.h"
#include "trainers/loop/run_config.h"
#include "trainers/methods/mle.h"

namespace coopgen {

namespace {

// The exact guide: per row p_φ's KV cache and the running log p_φ(y_<t) − log p(y_<t), so that step
// t scores every token v as x(y_<t v) = Δ(y_<t) + log p_φ(v | y_<t) − log p(v | y_<t) + b.
class RatioGuide : public PrefixGuide {
 public:
  RatioGuide(const Generator& lm, double bias, int32_t start, int64_t rows)
      : lm_(lm), bias_(bias), cache_(lm.new_cache(rows)), prev_(size_t(rows), start), delta_(size_t(rows), 0.0) {}
  int64_t candidates() const override { return 0; }
  std::vector<double> score(const std::vector<double>& logp, const std::vector<std::vector<int32_t>>&) override {
    const size_t V = size_t(lm_.vocab()), rows = prev_.size();
    CG_CHECK(logp.size() == rows * V, "likelihood-ratio guide: ", logp.size(), " log p for ", rows, " rows");
    const std::vector<float> z = lm_.step(Tensor::from(prev_, {int64_t(rows)}, lm_.device()), cache_).to_vector<float>();
    step_.assign(rows * V, 0.0);
    std::vector<double> x(rows * V);
    for (size_t r = 0; r < rows; ++r) {
      const double norm = log_sum_exp(z.data() + r * V, int64_t(V));
      for (size_t v = 0; v < V; ++v) {
        step_[r * V + v] = double(z[r * V + v]) - norm - logp[r * V + v];
        x[r * V + v] = delta_[r] + step_[r * V + v] + bias_;
      }
    }
    return x;
  }
  void advance(const std::vector<int32_t>& tokens) override {
    const size_t V = size_t(lm_.vocab());
    CG_CHECK(tokens.size() == prev_.size() && step_.size() == prev_.size() * V,
             "likelihood-ratio guide: advance without a scored step");
    for (size_t r = 0; r < tokens.size(); ++r) delta_[r] += step_[r * V + size_t(tokens[r])];
    prev_ = tokens;
    step_.clear();
  }

 private:
  const Generator& lm_;
  double bias_;
  Generator::Cache cache_;
  std::vector<int32_t> prev_;
  std::vector<double> delta_, step_;
};

GeneratorConfig lm_config(const RunConfig& cfg) {
  GeneratorConfig c;
  static_cast<TransformerConfig&>(c) = cfg.discriminator.model;
  c.output_chunk = cfg.model.output_chunk;
  return c;
}

class LikelihoodRatio final : public Discriminator {
 public:
  explicit LikelihoodRatio(const DiscriminatorContext& c)
      : cfg_(c.cfg),
        task_(c.task),
        g_(c.g),
        lm_(lm_config(c.cfg), c.task.vocab, c.cfg.seed ^ 0x1d15c0ull, c.cfg.device, c.cfg.precision, "disc.lm."),
        bias_(Tensor::zeros({1}, DType::F32, c.cfg.device).requires_grad_()) {
    params_ = lm_.params();
    params_.emplace_back("disc.ratio.b", bias_);
    if (!c.checkpoint.empty()) {  // a trained D to decode with
      load_trained_discriminator(params_, c, "disc.ratio.b", "likelihood-ratio discriminator");
      return;
    }
    const auto& dm = cfg_.discriminator.model;
    check_init_from_generator(cfg_);
    if (dm.max_len <= task_.sample_length)
      fail("discriminator.model.max_len (", dm.max_len, ") must exceed the task's sequence length (", task_.sample_length,
           "): p_φ reads the start token and every token but the last");
    opt_.emplace(params_, cfg_.discriminator.optim, dist::reducer_for(tensors_of(params_), cfg_.distributed.bucket_mb));
  }

  std::vector<double> logits(const Sequences& seqs) const override {
    std::vector<double> x = lm_.sequence_logprobs(seqs, task_.start_token);
    const std::vector<double> lp = g_.sequence_logprobs(seqs, task_.start_token);
    const double b = bias_.item();
    for (size_t i = 0; i < x.size(); ++i) x[i] += b - lp[i];
    return x;
  }
  PrefixScorer scorer() const override {
    PrefixScorer s = Discriminator::scorer();
    s.guide = [this](const std::vector<const std::vector<int32_t>*>& contexts) -> std::unique_ptr<PrefixGuide> {
      return std::make_unique<RatioGuide>(lm_, bias_.item(), task_.start_token, int64_t(contexts.size()));
    };
    return s;
  }
  std::string describe() const override {
    const auto& m = cfg_.discriminator.model;
    return cat("the likelihood ratio log p_φ(y) − log p(y) + b of a second language model p_φ (", m.layers, " layers, d_model ",
               m.d_model, ")");
  }
  std::optional<Trained> trained() override {
    CG_CHECK(opt_.has_value(), "a discriminator read for decoding is not trained");
    return Trained{&params_, &*opt_};
  }

  void initialise() override {
    if (cfg_.discriminator.init_from_generator) load_lm(g_.params(), "the generator (discriminator.init_from_generator)");
    if (const CheckpointRef& from = cfg_.discriminator.init_checkpoint; !from.empty()) {
      if (from.format != CheckpointRef::Format::coopgen)
        fail("discriminator.init_checkpoint ", from.str(), ": a likelihood-ratio D starts from a coopgen checkpoint");
      const std::string& dir = from.dir;
      const auto tensors = load_checkpoint(dir, nullptr);
      if (tensors.count("disc.ratio.b")) load_discriminator_params(params_, tensors, dir);  // a likelihood-ratio D's
      else {  // a generator's (an MLE run): p_φ
        NamedTensors g;
        for (const auto& [name, t] : tensors)
          if (!name.starts_with("disc.") && !name.starts_with("adamw.")) g.emplace_back(name, t);
        load_lm(g, dir);
      }
      std::fprintf(stderr, "discriminator initialised from %s\n", dir.c_str());
    }
  }

  Metrics train_step(const DiscriminatorBatch& batch, int64_t index, uint64_t seed) override {
    Sequences seqs;
    for (const auto* s : batch.seqs) seqs.push_back(*s);
    const std::vector<double> x = logits(seqs);
    // Host loss and residuals σ(x) − label; the weights of p_φ's log-prob carry them into φ.
    std::vector<float> w(seqs.size());
    double loss = 0, correct = 0, residual_sum = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const bool real = i < batch.real;
      loss += bce_with_logit(x[i], real);
      correct += (x[i] > 0) == real;
      const double residual = logistic(x[i]) - (real ? 1.0 : 0.0);
      residual_sum += residual;
      w[i] = float(-residual / double(batch.whole));
    }
    std::vector<double> totals{loss / double(batch.whole), correct};
    dist::all_reduce_sum(totals);
    if (!std::isfinite(totals[0])) fail("discriminator step ", index + 1, ": loss is ", totals[0]);
    std::vector<size_t> rows(seqs.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    Tensor ids, targets, mask;
    task_.make_batch(seqs, rows, lm_.device(), ids, targets, mask);
    Tensor surrogate = lm_.weighted_logprob(ids, targets, mask, Tensor::from(w, {int64_t(w.size())}, lm_.device()),
                                            dropout_seed(seed, index, 2));
    surrogate = add(surrogate, sum(scale(bias_, residual_sum / double(batch.whole))));
    surrogate.backward();
    opt_->step();
    opt_->zero_grad();
    return {{"d_loss", totals[0]}, {"d_acc", totals[1] / double(batch.whole)}};
  }

 private:
  // p_φ ← a generator's tensors (names without the "disc.lm." prefix).
  void load_lm(const NamedTensors& g, const std::string& from) {
    std::map<std::string, Tensor> renamed;
    for (const auto& [name, t] : g) renamed["disc.lm." + name] = t;
    NamedTensors lm = lm_.params();
    load_params(lm, renamed, from);
  }

  const RunConfig& cfg_;
  const Task& task_;
  const Generator& g_;
  Generator lm_;  // p_φ
  Tensor bias_;   // b [1]
  NamedTensors params_;
  std::optional<AdamW> opt_;  // a training run's (none when read for decoding)
};

}  // namespace

DiscriminatorKind discriminator_likelihood_ratio() {
  DiscriminatorKind k{"likelihood_ratio",
                      "log p_φ(y) − log p(y) + b of a second language model p_φ (discriminator.model), trained as the classifier",
                      [](const DiscriminatorContext& c) -> std::unique_ptr<Discriminator> {
                        if (c.task.sep >= 0)
                          fail("discriminator.kind likelihood_ratio: unconditional tasks only (data.task is ", name_of(c.cfg.data.task),
                               ")");
                        return std::make_unique<LikelihoodRatio>(c);
                      },
                      nullptr, nullptr};
  k.check = [](const RunConfig& cfg) {
    if (cfg.discriminator.causal)
      fail("discriminator.causal: a likelihood-ratio D is a language model, causal by construction (leave it false)");
  };
  return k;
}

}  // namespace coopgen
