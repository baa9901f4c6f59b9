// The quality/diversity protocol of Caccia et al. 2020 ("Language GANs falling short"): evaluate
// a generator over a sweep of temperatures (logits multiplied by α, i.e. temperature 1/α), each
// point scored by
//   LM score          NLL of the samples under an evaluator LM trained by MLE on real data (quality)
//   reverse LM score  NLL of the real test data under a fresh LM trained on the samples (diversity)
// and the task's own metrics. A method only beats MLE if its curve lies beyond MLE's.
#pragma once
#include <string>
#include <vector>

#include "models/generator.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

struct SweepPoint {
  double alpha;
  Metrics metrics;  // lm_score, reverse_lm_score, then the task's metrics at this temperature
};

double lm_score(const Generator& evaluator, const Task& task, const Sequences& samples);
// NLL of the task's test data under a fresh model trained `steps` steps on `samples`, with one fixed
// recipe (the MLE configs' AdamW), not cfg.optim: every method's diversity is measured alike.
double reverse_lm_score(const Task& task, const Sequences& samples, const RunConfig& cfg, int64_t steps);
// One point per α: train.eval_samples samples at temperature 1/α (from SamplesFrom::sampler, the
// generator itself; from SamplesFrom::decoder, cfg.decoding's decoder guided by `d` drawing its
// candidates or proposals at that temperature: a cooperative final sampler's curve), their LM and
// reverse LM scores, and the task's metrics of the same samples (with `d`: D's metrics too, which
// are the generator's at temperature 1).
std::vector<SweepPoint> temperature_sweep(const Generator& g, const Generator& evaluator, const Task& task,
                                          const RunConfig& cfg, const std::vector<double>& alphas,
                                          int64_t reverse_steps, const PrefixScorer& d = PrefixScorer{},
                                          SamplesFrom from = SamplesFrom::sampler);
// sweep.csv (one row per α); the picture is scripts/plot.py's (`plot.py sweep`).
void write_sweep(const std::string& dir, const std::vector<SweepPoint>& points);

}  // namespace coopgen
