#include "trainers/eval/sweep.h"

#include <cstdio>
#include <filesystem>

#include "engine/io.h"
#include "trainers/methods/mle.h"

namespace coopgen {

// Samples are scored as complete sequences: text samples get their <eos> back.
static Sequences as_targets(const Task& task, const Sequences& samples) {
  Sequences out = samples;
  if (task.eos >= 0)
    for (auto& s : out)
      if (int64_t(s.size()) < task.sample_length) s.push_back(task.eos);
  return out;
}

double lm_score(const Generator& evaluator, const Task& task, const Sequences& samples) {
  return task.nll(evaluator, as_targets(task, samples));
}

// The reverse LM is trained by one recipe whatever the run's own optimiser, so that every
// method's diversity is measured alike (a method's small fine-tuning learning rate would leave its
// reverse LM undertrained and the method looking less diverse): the AdamW of the MLE configs, lr
// 1e-3, weight decay 0.01, clip 1, cosine from a 100-step warm-up down to 0.1×.
static OptimConfig reverse_lm_optimizer(int64_t steps) {
  OptimConfig o;
  o.lr = 1e-3;
  o.weight_decay = 0.01;
  o.grad_clip = 1.0;
  o.schedule.kind = Schedule::cosine;
  o.schedule.warmup_steps = 100;
  o.schedule.total_steps = std::max<int64_t>(steps, 101);
  o.schedule.min_lr_ratio = 0.1;
  return o;
}

double reverse_lm_score(const Task& task, const Sequences& samples, const RunConfig& cfg, int64_t steps) {
  const Sequences data = as_targets(task, samples);
  Generator fresh(cfg.model, task.vocab, cfg.seed + 0x5eedull, cfg.device);
  AdamW opt(fresh.params(), reverse_lm_optimizer(steps));
  BatchOrder batches(int64_t(data.size()), std::min<int64_t>(cfg.train.batch_size, int64_t(data.size())), cfg.seed, "train.batch_size");
  for (int64_t step = 0; step < steps; ++step)
    mle_step(fresh, opt, task, data, batches.rows(step), true, dropout_seed(cfg.seed, step, 3));
  return task.nll(fresh, task.test);
}

std::vector<SweepPoint> temperature_sweep(const Generator& g, const Generator& evaluator, const Task& task,
                                          const RunConfig& cfg, const std::vector<double>& alphas,
                                          int64_t reverse_steps, const PrefixScorer& d, SamplesFrom from) {
  if (task.sep >= 0) fail("sweep: the temperature sweep scores unconditional samples (data.task oracle or text), not ", name_of(cfg.data.task));
  std::vector<SweepPoint> out;
  for (double alpha : alphas) {
    CG_CHECK(alpha > 0, "sweep: α must be positive, got ", alpha);
    RunConfig at = cfg;
    at.sampling.temperature = 1.0 / alpha;
    const EvalInputs in(task, g, at, d, 0, from);
    const Sequences& samples = in.samples();
    SweepPoint p{alpha, {{"lm_score", lm_score(evaluator, task, samples)},
                         {"reverse_lm_score", reverse_lm_score(task, samples, cfg, reverse_steps)}}};
    for (auto& m : evaluate_metrics(in)) p.metrics.push_back(m);
    std::fprintf(stderr, "sweep α %.3f: LM %.4f reverse LM %.4f\n", alpha, p.metrics[0].second, p.metrics[1].second);
    out.push_back(std::move(p));
  }
  return out;
}

void write_sweep(const std::string& dir, const std::vector<SweepPoint>& points) {
  std::filesystem::create_directories(dir);
  std::string csv = "alpha,temperature";
  if (!points.empty())
    for (auto& [name, v] : points[0].metrics) csv += "," + name;
  csv += "\n";
  for (const SweepPoint& p : points) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g,%.6g", p.alpha, 1.0 / p.alpha);
    csv += buf;
    for (auto& [name, v] : p.metrics) {
      std::snprintf(buf, sizeof buf, ",%.6f", v);
      csv += buf;
    }
    csv += "\n";
  }
  atomic_write((std::filesystem::path(dir) / "sweep.csv").string(), csv);
}

}  // namespace coopgen
