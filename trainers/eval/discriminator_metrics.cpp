// What the run's discriminator is worth, measured at each evaluation: its accuracy on held-out real
// sequences and fresh samples of p, the gain of the target q ∝ p·D of one exact iteration, and on
// the oracle how its logits follow those of the optimal D*.
#include <algorithm>
#include <cmath>

#include "engine/random.h"
#include "trainers/eval/metrics.h"
#include "trainers/loop/run_config.h"
#include "trainers/loop/tasks.h"
#include "trainers/methods/weights.h"

namespace coopgen {

namespace {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i] / double(a.size()), mb += b[i] / double(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace

// The share of the first n test sequences D calls real (logit > 0), and of n fresh samples of p it
// calls fake.
MetricKind metric_d_accuracy() {
  return {"d_accuracy", "D's accuracy on held-out real sequences and on fresh samples of p", kNeedsDiscriminator,
          [](const EvalInputs& in) -> Metrics {
            const std::vector<double>& x = in.fake_logits();
            const size_t n = x.size();
            double acc_real = 0, acc_fake = 0;
            for (double v : in.d(Sequences(in.task.test.begin(), in.task.test.begin() + long(n)))) acc_real += (v > 0) / double(n);
            for (double v : x) acc_fake += (v < 0) / double(n);
            return {{"d_acc_real", acc_real}, {"d_acc_fake", acc_fake}};
          }};
}

// The target q ∝ p·D of one exact iteration against p (methods/weights.h): target_gain = KL(p*‖p) −
// KL(p*‖q) > 0 when this D can move p toward the data at all; on text, NLL-test(p) − NLL-test(q).
// Unconditional: the whole test set, the normaliser from fakes(). Conditional, q(y|x) ∝ p(y|x)·D(x, y):
// the first n = train.eval_samples test pairs, each source's normaliser from adversarial.samples
// fresh draws of p(·|x); the NLL counts the target tokens, as NLL-test does.
MetricKind metric_target_gain() {
  return {"target_gain", "KL(p*‖p) − KL(p*‖q), q ∝ p·D: the most one exact iteration with this D can gain, and its standard error",
          kNeedsDiscriminator, [](const EvalInputs& in) -> Metrics {
            const Task& t = in.task;
            auto target_tokens = [&](const Sequences& seqs) {
              double tokens = 0;
              for (const auto& s : seqs) tokens += double(s.size() - t.context_of(s).size());
              return tokens;
            };
            const Target target = in.cfg.adversarial.target;
            TargetShift shift;
            if (t.sep < 0) {
              shift = target_shift(in.test_logits(), target_tokens(t.test), in.fake_logits(), target);
            } else {
              const size_t n = size_t(std::min<int64_t>(in.cfg.train.eval_samples, int64_t(t.test.size())));
              const Sequences heldout(t.test.begin(), t.test.begin() + long(n));
              const SampledSet drawn = t.draw(in.g, t.leading_prompts(t.test, int64_t(n), in.cfg.adversarial.samples),
                                              SamplingConfig{}, random::stream(in.cfg.seed, in.step, 11));
              shift = target_shift(in.d(heldout), target_tokens(heldout), in.d(drawn.seqs), target, n);
            }
            return {{"target_gain", -shift.shift}, {"target_gain_se", shift.se}};
          }};
}

// On the oracle the optimal D's logit is known: r = log p*(y) − log p(y). How well D's logits x
// follow it: their correlation (1: D ranks samples as D* does), the mean |x − r|, and the standard
// deviation of x − r (what is left once an offset is removed; comparable with the σ of
// discriminator.logit_noise, which is exactly that for D* with noise and logit_scale 1; with a
// scale β it also holds (β − 1)·r).
MetricKind metric_d_vs_optimal() {
  return {"d_vs_optimal", "how D's logits on fresh samples follow D*'s, log p*(y) − log p(y)",
          kNeedsDiscriminator | kNeedsDataModel, [](const EvalInputs& in) -> Metrics {
            const SampledSet& fake = in.fakes();
            const std::vector<double>& x = in.fake_logits();
            std::vector<double> r = in.task.data_model()->log_probs(fake.seqs);
            for (size_t i = 0; i < r.size(); ++i) r[i] -= fake.logp[i];
            double mae = 0, mean = 0, sq = 0;
            for (size_t i = 0; i < r.size(); ++i) mae += std::fabs(x[i] - r[i]), mean += x[i] - r[i];
            mae /= double(r.size()), mean /= double(r.size());
            for (size_t i = 0; i < r.size(); ++i) sq += (x[i] - r[i] - mean) * (x[i] - r[i] - mean);
            return {{"d_corr_log_ratio", pearson(x, r)}, {"d_logit_mae", mae}, {"d_logit_sd_error", std::sqrt(sq / double(r.size()))}};
          }};
}

}  // namespace coopgen
