#include "trainers/eval/metrics.h"

#include <algorithm>

#include "core/error.h"
#include "core/registry.h"
#include "engine/random.h"
#include "trainers/decoding/decoders.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

#define COOPGEN_METRIC(name) MetricKind metric_##name();
#include "trainers/eval/metrics.def"
#undef COOPGEN_METRIC

namespace {

Registry<MetricKind>& metric_registry() {
  static Registry<MetricKind> r("metric", {
#define COOPGEN_METRIC(name) metric_##name(),
#include "trainers/eval/metrics.def"
#undef COOPGEN_METRIC
  });
  return r;
}

}  // namespace

const std::vector<MetricKind>& metrics() { return metric_registry().all(); }

void register_metric(MetricKind kind) {
  CG_CHECK(bool(kind.compute), "metric '", kind.name, "' has no compute");
  metric_registry().add(std::move(kind));
}

SampledSet EvalInputs::decode(const Prompts& prompts) const {
  const DecodingConfig dec = from == SamplesFrom::decoder ? cfg.decoding : DecodingConfig{};
  CG_CHECK(d || !decoder_named(dec.decoder).cooperative, "evaluation: decoder ", dec.decoder,
           " is cooperative and needs a discriminator (none here)");
  return task.decode(g, prompts, dec, cfg.sampling, d, cfg.seed + 0x51ed27ull);
}

const Sequences& EvalInputs::samples() const {
  if (!samples_) {
    CG_CHECK(task.sep < 0, "unconditional samples from a conditional task");
    Sequences seqs = decode(Prompts::unconditional(task.start_token, cfg.train.eval_samples)).seqs;
    for (auto& q : seqs) task.cut_at_eos(q);
    samples_ = std::move(seqs);
  }
  return *samples_;
}

const SampledSet& EvalInputs::fakes() const {
  if (!fakes_) {
    const int64_t n = std::min<int64_t>(cfg.train.eval_samples, int64_t(task.test.size()));
    fakes_ = task.draw(g, task.leading_prompts(task.test, n), SamplingConfig{}, random::stream(cfg.seed, step, 6));
  }
  return *fakes_;
}

double EvalInputs::test_nll() const {
  if (!test_nll_) test_nll_ = task.nll(g, task.test);
  return *test_nll_;
}

const std::vector<double>& EvalInputs::fake_logits() const {
  if (!fake_logits_) fake_logits_ = d(fakes().seqs);
  return *fake_logits_;
}

const std::vector<double>& EvalInputs::test_logits() const {
  if (!test_logits_) test_logits_ = d(task.test);
  return *test_logits_;
}

Metrics evaluate_metrics(const EvalInputs& in) {
  const Task& t = in.task;
  const unsigned offered = (t.data_model() ? kNeedsDataModel : 0u) | (t.reference_words() ? kNeedsReferenceText : 0u) |
                           (t.sep < 0 ? kNeedsUnconditional : kNeedsConditional) | (in.d ? kNeedsDiscriminator : 0u);
  Metrics m;
  if (!t.valid.empty()) m.emplace_back(kValidationMetric, t.nll(in.g, t.valid));
  for (const MetricKind& k : metric_registry().all())
    if ((k.needs & offered) == k.needs)
      for (auto& value : k.compute(in)) m.push_back(std::move(value));
  return m;
}

}  // namespace coopgen
