#include "trainers/methods/with_discriminator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <numeric>
#include <set>

#include "engine/communicator.h"
#include "engine/io.h"
#include "engine/logspace.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "models/gpt2.h"
#include "trainers/loop/loop.h"
#include "trainers/methods/mle.h"
#include "trainers/methods/weights.h"

namespace coopgen {

namespace {

// Independent random streams per (run seed, step, purpose), so a resumed run draws what the
// uninterrupted one would have.
using random::stream;

// The sizes a data-parallel run splits over `ranks`, checked before any work (a failure would
// otherwise come after D's pre-training): each rank's share of a batch must be whole, and of a
// draw it must also be a multiple of 4 rows, since a rank's rows start on a Philox counter (4 rows
// each) so that they are the rows one process would draw.
void check_rank_split(const RunConfig& cfg, bool conditional, int64_t draws, int ranks) {
  if (ranks == 1) return;
  auto need = [&](const char* key, int64_t value, int64_t rows_per_rank_of_one) {
    if (value % ranks != 0)
      fail(key, " (", value, ") must be a multiple of the number of ranks (", ranks, ")");
    if (rows_per_rank_of_one > 0 && (value / ranks) * rows_per_rank_of_one % 4 != 0)
      fail(key, " (", value, ") over ", ranks, " ranks gives ", value / ranks, " per rank, whose ",
           (value / ranks) * rows_per_rank_of_one, " rows of a draw must be a multiple of 4");
  };
  const AdversarialConfig& a = cfg.adversarial;
  if (conditional) need("adversarial.sources", a.sources, draws);  // whole sources per rank, `draws` rows each
  else need(cfg.method == Method::rml_gan ? "adversarial.candidates" : "adversarial.samples", draws, 1);
  need("discriminator.batch_size", cfg.discriminator.batch_size, 1);  // its fakes are a draw too
  if (!conditional) need("adversarial.samples", a.samples, 0);  // the generator step's rows (RML-GAN: the resampled M)
  if (a.mle_weight > 0) need("train.batch_size", cfg.train.batch_size, 0);
}

class DiscriminatorRun {
 public:
  DiscriminatorRun(const RunConfig& cfg, const Task& task)
      : cfg_(cfg),
        task_(task),
        strategy_(strategy_for(cfg)),
        g_(cfg.model, task.vocab, cfg.seed, cfg.device, cfg.precision),
        opt_g_(g_.params(), cfg.optim, dist::reducer_for(tensors_of(g_.params()), cfg.distributed.bucket_mb)),
        real_for_d_(int64_t(task.train.size()), cfg.discriminator.batch_size, stream(cfg.seed, 0, 1), "discriminator.batch_size"),
        real_for_mle_(int64_t(task.train.size()), cfg.train.batch_size, cfg.seed, "train.batch_size"),
        sources_(int64_t(task.train.size()), std::min<int64_t>(cfg.adversarial.sources, int64_t(task.train.size())),
                 stream(cfg.seed, 0, 7), "adversarial.sources"),
        d_(make_discriminator({cfg, task, g_})),
        learned_(d_->trained().has_value()) {
    if (task.sep >= 0 && cfg.adversarial.sources < 1) fail("adversarial.sources (", cfg.adversarial.sources, ") must be at least 1");
    check_rank_split(cfg, task.sep >= 0, strategy_.draws, dist::size());
  }

  void start(RunStart run_start) {
    std::fprintf(stderr, "discriminator: %s\n", d_->describe().c_str());
    if (run_start == RunStart::Resume) return;  // the checkpoint holds both models
    init_generator(cfg_, g_, task_);
    if (!learned_) return;
    d_->initialise();
    pretrain_d();
    warm_up_d();
  }

  StepReport step(int64_t step, bool log) {
    Metrics d_stats{{"d_loss", 0}, {"d_acc", 0}};
    const int64_t k = learned_ ? cfg_.discriminator.steps : 0;
    if (k == 0) d_stats.clear();
    for (int64_t j = 0; j < k; ++j) {
      const Metrics m = train_d(cfg_.discriminator.pretrain_steps + step * k + j, stream(cfg_.seed, step * k + j, 3));
      for (size_t i = 0; i < d_stats.size(); ++i) d_stats[i].second += m[i].second / double(k);
    }
    // Conditional tasks: M samples for each of `sources` training sources; otherwise M from the start.
    // Each rank decodes and scores its share; the weights need the whole set, which every rank
    // gathers (a few numbers and tokens per sample) and weighs alike.
    const Prompts prompts = task_.prompts(task_.train, task_.sep >= 0 ? sources_.rows(step) : std::vector<size_t>{0},
                                          strategy_.draws);
    SampledSet mine = task_.decode(g_, shard_prompts(prompts), cfg_.decoding, cfg_.adversarial.proposal, scorer(),
                                   stream(cfg_.seed, step, 4));
    const std::vector<double> x = dist::all_gather(d_logits(mine.seqs));
    SampledSet drawn = gather_samples(mine);
    double mean_d = 0;
    for (double v : x) mean_d += logistic(v) / double(x.size());
    WeightedSamples ws = weigh_per_context(strategy_, std::move(drawn), x, prompts.per_context, cfg_.adversarial,
                                           stream(cfg_.seed, step, 5));

    const double lr = opt_g_.lr();
    const GeneratorStep r = weighted_generator_step(g_, opt_g_, task_, ws, cfg_.adversarial.mle_weight,
                                                    real_for_mle_.rows(step), log, dropout_seed(cfg_.seed, step, 0));
    StepReport report{r.loss, r.tokens, {{"lr", lr}, {"grad_norm", r.grad_norm}, {"mean_d", mean_d}}};
    report.metrics.insert(report.metrics.end(), d_stats.begin(), d_stats.end());
    report.metrics.insert(report.metrics.end(), ws.stats.begin(), ws.stats.end());
    return report;
  }

  // The task's metrics and D's (trainers/eval/metrics.def: D's accuracy, the target's gain, on the
  // oracle its agreement with D*).
  Metrics evaluate() { return task_.evaluate(g_, cfg_, scorer(), opt_g_.steps_taken()); }

  // A fixed D (D*) has no parameters: the checkpoint holds the generator alone.
  std::vector<Trained> trained() {
    std::vector<Trained> t{{&g_.params(), &opt_g_}};
    if (const std::optional<Trained> d = d_->trained()) t.push_back(*d);
    return t;
  }

 private:
  // D's pre-training (discriminator.pretrain_steps), stopped early on held-out data with
  // discriminator.pretrain_patience; the D kept comes back with its optimiser's state and step.
  // The criterion is cross-entropy, not accuracy: the target q ∝ p·D depends on D's calibrated
  // logits, which accuracy does not see.
  void pretrain_d() {
    const DiscriminatorTrainConfig& dc = cfg_.discriminator;
    const bool stop_early = dc.pretrain_patience > 0 && dc.pretrain_steps > 0;
    if (stop_early && task_.valid.empty())
      fail("discriminator.pretrain_patience needs a validation split, and this task's is empty");
    Sequences real, fake;
    if (stop_early) {
      const int64_t n = std::min<int64_t>(cfg_.train.eval_samples, int64_t(task_.valid.size()));
      real.assign(task_.valid.begin(), task_.valid.begin() + long(n));
      fake = fakes_for(task_.leading_prompts(task_.valid, n), stream(cfg_.seed, 0, 10));
    }
    const Trained d = *d_->trained();
    std::vector<Tensor> best_params;
    std::map<std::string, Tensor> best_moments;
    double best_loss = HUGE_VAL;
    int64_t best_at = 0, best_opt_steps = 0, worse = 0;
    for (int64_t done = 0;; ++done) {
      if (stop_early && (done % dc.pretrain_eval_every == 0 || done == dc.pretrain_steps)) {
        const auto [loss, accuracy] = held_out_score(real, fake, done);
        if (dist::is_root()) std::fprintf(stderr, "discriminator held-out at %lld: loss %.4f accuracy %.3f\n", (long long)done, loss, accuracy);
        if (loss < best_loss) {
          NoGradGuard no_grad;
          best_params.clear(), best_moments.clear();
          for (const auto& [name, t] : *d.params) best_params.push_back(t.detach().clone());
          for (const auto& [name, t] : d.opt->state()) best_moments.emplace(name, t.detach().clone());
          best_loss = loss, best_at = done, best_opt_steps = d.opt->steps_taken(), worse = 0;
        } else if (++worse == dc.pretrain_patience) {
          break;
        }
      }
      if (done == dc.pretrain_steps) break;
      const Metrics m = train_d(done, stream(cfg_.seed, done, 2));
      if ((done + 1) % 50 == 0 || done + 1 == dc.pretrain_steps)
        std::fprintf(stderr, "discriminator pre-training %lld/%lld: loss %.4f accuracy %.3f\n", (long long)(done + 1),
                     (long long)dc.pretrain_steps, m[0].second, m[1].second);
    }
    if (!stop_early) return;
    for (size_t i = 0; i < best_params.size(); ++i) copy_((*d.params)[i].second, best_params[i]);
    d.opt->load_state(best_moments, best_opt_steps);
    if (dist::is_root())
      std::fprintf(stderr, "discriminator: kept the D of pre-training step %lld (held-out loss %.4f)\n", (long long)best_at, best_loss);
  }

  // D's cross-entropy and accuracy on held-out reals and fakes (means over both), each rank scoring
  // every size()-th sequence and the sums reduced: every rank gets the same numbers, so all keep the
  // same D and stop at the same step. A non-finite loss is an error naming the step.
  std::pair<double, double> held_out_score(const Sequences& real, const Sequences& fake, int64_t step) const {
    Sequences mine;
    std::vector<bool> is_real;
    for (size_t i = size_t(dist::rank()); i < real.size() + fake.size(); i += size_t(dist::size())) {
      mine.push_back(i < real.size() ? real[i] : fake[i - real.size()]);
      is_real.push_back(i < real.size());
    }
    const std::vector<double> x = mine.empty() ? std::vector<double>{} : d_->logits(mine);
    std::vector<double> sums{0, 0};  // loss, correct
    for (size_t i = 0; i < x.size(); ++i) sums[0] += bce_with_logit(x[i], is_real[i]), sums[1] += is_real[i] ? x[i] > 0 : x[i] < 0;
    dist::all_reduce_sum(sums);
    const double n = double(real.size() + fake.size());
    if (!std::isfinite(sums[0])) fail("discriminator pre-training step ", step, ": held-out loss is ", sums[0] / n);
    return {sums[0] / n, sums[1] / n};
  }

  // Fakes for D: continuations of `prompts` from p, or from the proposal (the sampling section or
  // the cooperative decoder GCN draws from), as discriminator.fakes says.
  Sequences fakes_for(const Prompts& prompts, uint64_t seed) const {
    return cfg_.discriminator.fakes == FakesFrom::p ? task_.draw(g_, prompts, SamplingConfig{}, seed).seqs
                                                    : task_.decode(g_, prompts, cfg_.decoding, cfg_.adversarial.proposal, scorer(), seed).seqs;
  }

  // The gate of discriminator.warmup_until_accuracy: D trains until its accuracy over the last 20
  // batches reaches the threshold, or warmup_max_steps steps (then it says so and goes on).
  void warm_up_d() {
    const double want = cfg_.discriminator.warmup_until_accuracy;
    if (want <= 0) return;
    std::vector<double> recent;
    double mean = 0;
    int64_t j = 0;
    for (; j < cfg_.discriminator.warmup_max_steps; ++j) {
      recent.push_back(train_d(cfg_.discriminator.pretrain_steps + j, stream(cfg_.seed, j, 8))[1].second);
      if (recent.size() > 20) recent.erase(recent.begin());
      mean = 0;
      for (double a : recent) mean += a / double(recent.size());
      if (recent.size() == 20 && mean >= want) break;
      if ((j + 1) % 100 == 0 && j + 1 < cfg_.discriminator.warmup_max_steps)  // the gate can run for thousands of steps: show it moving
        std::fprintf(stderr, "discriminator warm-up %lld/%lld: accuracy %.3f over the last %zu batches (until %.3f)\n",
                     (long long)(j + 1), (long long)cfg_.discriminator.warmup_max_steps, mean, recent.size(), want);
    }
    std::fprintf(stderr, "discriminator warm-up: accuracy %.3f over the last %zu batches after %lld steps (%s %.3f)\n",
                 mean, recent.size(), (long long)std::min(j + 1, cfg_.discriminator.warmup_max_steps),
                 mean >= want ? "reached" : "did not reach", want);
  }

  // One discriminator step: a batch of real training sequences against as many fakes (from p, or
  // from the proposal: the sampling section or the cooperative decoder GCN draws from).
  Metrics train_d(int64_t index, uint64_t seed) {
    // Real training sequences against fakes continuing the same sources (conditional tasks); each
    // rank takes its share of both, and its loss is its share of the batch mean.
    const std::vector<size_t> all_rows = real_for_d_.rows(index), real_rows = dist::shard(all_rows, "discriminator.batch_size");
    const Prompts fake_prompts = shard_prompts(task_.prompts(task_.train, all_rows, 1));
    const Sequences fakes = fakes_for(fake_prompts, seed);
    std::vector<const std::vector<int32_t>*> seqs;
    for (size_t r : real_rows) seqs.push_back(&task_.train[r]);
    const size_t n_real = seqs.size();
    for (const auto& f : fakes) seqs.push_back(&f);
    Sequences cut;
    cut.reserve(seqs.size());  // seqs points into it
    if (cfg_.discriminator.prefix_fraction > 0) {
      // Per row of the whole batch (reals 0..B−1, fakes B..2B−1), so the cuts do not depend on the ranks.
      const uint64_t first = uint64_t(dist::rank()) * n_real, B = all_rows.size();
      for (size_t j = 0; j < seqs.size(); ++j) {
        const uint64_t row = j < n_real ? first + j : B + first + (j - n_real);
        const std::vector<int32_t>& s = *seqs[j];
        if (s.size() > 1 && random::philox_uniform(seed, 0, 2 * row) < cfg_.discriminator.prefix_fraction) {
          const size_t len = 1 + size_t(double(random::philox_uniform(seed, 0, 2 * row + 1)) * double(s.size() - 1));
          cut.emplace_back(s.begin(), s.begin() + long(std::min(len, s.size() - 1)));
          seqs[j] = &cut.back();
        }
      }
    }
    return d_->train_step({std::move(seqs), n_real, int64_t(2 * all_rows.size())}, index, seed);
  }

  std::vector<double> d_logits(const Sequences& seqs) const { return d_->logits(seqs); }

  // This rank's share of a draw: a contiguous block of the contexts (conditional tasks: whole
  // sources, so per-source weights stay on one rank) or of the rows, addressed within the whole draw.
  static Prompts shard_prompts(Prompts p) {
    if (dist::size() == 1) return p;
    const int64_t n = dist::size(), r = dist::rank(), rows = p.rows();
    if (p.contexts.size() > 1) {
      if (int64_t(p.contexts.size()) % n != 0)
        fail("adversarial.sources (", p.contexts.size(), ") must be a multiple of the number of ranks (", n, ")");
      const int64_t per = int64_t(p.contexts.size()) / n;
      p.contexts = Sequences(p.contexts.begin() + r * per, p.contexts.begin() + (r + 1) * per);
      p.first_row = r * per * p.per_context;
    } else {
      if (p.per_context % n != 0)
        fail(p.per_context, " samples per step must be a multiple of the number of ranks (", n, ")");
      p.per_context /= n;
      p.first_row = r * p.per_context;
    }
    p.stream_rows = rows;
    return p;
  }

  // Every rank's samples, in rank order: the whole draw.
  static SampledSet gather_samples(const SampledSet& mine) {
    if (dist::size() == 1) return mine;
    std::vector<int32_t> lengths, tokens;
    for (const auto& s : mine.seqs) {
      lengths.push_back(int32_t(s.size()));
      tokens.insert(tokens.end(), s.begin(), s.end());
    }
    lengths = dist::all_gather(lengths), tokens = dist::all_gather(tokens);
    SampledSet all{{}, dist::all_gather(mine.logp), dist::all_gather(mine.logq)};
    size_t at = 0;
    for (int32_t len : lengths) all.seqs.emplace_back(tokens.begin() + long(at), tokens.begin() + long(at + size_t(len))), at += size_t(len);
    return all;
  }
  PrefixScorer scorer() const { return d_->scorer(); }

  const RunConfig& cfg_;
  const Task& task_;
  Strategy strategy_;
  Generator g_;
  AdamW opt_g_;
  BatchOrder real_for_d_, real_for_mle_, sources_;
  std::unique_ptr<Discriminator> d_;
  bool learned_;  // D has parameters to train (not D*)
};

}  // namespace

GeneratorStep weighted_generator_step(Generator& g, AdamW& opt, const Task& task, const WeightedSamples& ws,
                                      double mle_weight, const std::vector<size_t>& real_rows, bool read_loss,
                                      std::optional<uint64_t> dropout_seed) {
  // Data parallelism: every rank holds all the weighted samples and steps on its share; the
  // gradients summed over ranks (AdamW::step) are those of the whole sum.
  std::vector<size_t> all(ws.seqs.size());
  std::iota(all.begin(), all.end(), size_t(0));
  const std::vector<size_t> rows = dist::shard(all, "the samples of a generator step");
  Tensor ids, targets, mask;
  const double tokens = dist::all_reduce_sum(task.make_batch(ws.seqs, rows, g.device(), ids, targets, mask));
  const double mean_len = std::max(1.0, tokens / double(all.size()));
  const int64_t B = ids.size(0);
  std::vector<float> w(rows.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(ws.w[rows[i]] / mean_len);
  Tensor loss = g.weighted_logprob(ids, targets, mask, Tensor::from(w, {B}, g.device()), dropout_seed);
  if (mle_weight > 0) {
    double real_tokens = 0;
    const std::optional<uint64_t> mle_seed = dropout_seed ? std::optional(random::stream(*dropout_seed, 0, 22)) : std::nullopt;
    loss = add(loss, scale(mle_loss_share(g, task, task.train, real_rows, real_tokens, mle_seed), mle_weight));
  }
  GeneratorStep r{read_loss ? logged_loss(loss, opt) : std::nan(""), 0, tokens};
  loss.backward();
  r.grad_norm = opt.step();
  opt.zero_grad();
  return r;
}

int train_with_discriminator(const RunConfig& cfg, RunStart start) {
  strategy_for(cfg);  // a config the method cannot honour fails before the data is read
  check_discriminator(cfg);
  const DataConfig& data = cfg.data;
  if (cfg.discriminator.pretrain_patience > 0 &&
      (data.task == TaskKind::oracle ? data.valid_size == 0 : data.valid_file.empty() && data.valid_fraction == 0))
    fail("discriminator.pretrain_patience stops on the validation split, which the data section leaves out "
         "(data.valid_size, data.valid_file or data.valid_fraction)");
  prepare_run_dir(cfg, start);
  std::unique_ptr<Task> task = Task::create(cfg);
  check_batch_fits(cfg, cfg.adversarial.samples * (task->sep >= 0 ? cfg.adversarial.sources : 1), "adversarial.samples",
                   task->vocab);
  DiscriminatorRun run(cfg, *task);
  run.start(start);
  LoopHooks hooks;
  hooks.banner = std::string("coopgen train: ") + name_of(cfg.method) + " on the " + name_of(cfg.data.task) + " task, " +
                 std::to_string(cfg.adversarial.samples) + " samples per step, " +
                 std::to_string(cfg.discriminator.steps) + " discriminator steps per step, device " + name_of(cfg.device) +
                 ", run folder " + cfg.run_dir;
  hooks.step = [&](int64_t step, bool log) { return run.step(step, log); };
  hooks.evaluate = [&] { return run.evaluate(); };
  hooks.task = task.get();
  return run_training(cfg, run.trained(), hooks, start);
}

}  // namespace coopgen
