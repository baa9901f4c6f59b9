// The evaluation metrics (metrics.jsonl, `coopgen eval`): a registry, as ops.def is for ops. A
// metric declares what it needs — the data distribution p*, reference text, unconditional or
// conditional generation, the run's discriminator — and the evaluation runs every metric whose
// needs the task and run meet, handing it what it reads (EvalInputs: the task, the generator, the
// config, D, and draws shared among metrics). A metric is one file defining
// `MetricKind metric_<name>()` and one line in metrics.def; tests and plugins add metrics at run
// time with register_metric.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trainers/decoding/decoding.h"

namespace coopgen {

struct RunConfig;
class Task;

using Metrics = std::vector<std::pair<std::string, double>>;

// What a metric may need beyond the generator and the test set (a bit mask).
enum MetricNeeds : unsigned {
  kNeedsDataModel = 1u << 0,      // p* known exactly (the oracle task): Task::data_model()
  kNeedsReferenceText = 1u << 1,  // the test set's words: Task::reference_words() and words_of()
  kNeedsUnconditional = 1u << 2,  // a task that generates from the start token
  kNeedsConditional = 1u << 3,    // a task that continues sources (`src <sep>`)
  kNeedsDiscriminator = 1u << 4,  // the run's D (EvalInputs::d non-empty)
};

// Where the evaluation's samples and decoded targets come from.
enum class SamplesFrom {
  sampler,  // the `sampling` section: the generator p itself (what training evaluates)
  decoder,  // cfg.decoding's decoder, guided by d: the final sampler (`coopgen eval`, `sweep --decoder`)
};

// What the evaluation hands each metric. The draws are made on first use and shared.
class EvalInputs {
 public:
  EvalInputs(const Task& task_, const Generator& g_, const RunConfig& cfg_, const PrefixScorer& d_, int64_t step_,
             SamplesFrom from_ = SamplesFrom::sampler)
      : task(task_), g(g_), cfg(cfg_), d(d_), step(step_), from(from_) {}
  const Task& task;
  const Generator& g;
  const RunConfig& cfg;
  const PrefixScorer& d;  // empty without a discriminator
  int64_t step;           // the generator's optimiser steps so far (seeds the fresh draws)
  SamplesFrom from;
  // `prompts` decoded as `from` says, seeded alike for every metric (whole sequences with their
  // log p and log q̂, as Task::decode returns them). Errors: a cooperative decoder without d.
  SampledSet decode(const Prompts& prompts) const;
  // train.eval_samples unconditional sequences of decode(), cut at <eos>.
  const Sequences& samples() const;
  // n = min(train.eval_samples, |test|) fresh samples of p itself (the proposal of nothing but p),
  // whole with their log p: what D is asked to tell from the first n test sequences.
  const SampledSet& fakes() const;
  // The generator's mean per-token NLL of the test set (NLL-test).
  double test_nll() const;
  // D's logits on fakes() and on the whole test set.
  const std::vector<double>& fake_logits() const;
  const std::vector<double>& test_logits() const;

 private:
  mutable std::optional<Sequences> samples_;
  mutable std::optional<SampledSet> fakes_;
  mutable std::optional<std::vector<double>> fake_logits_, test_logits_;
  mutable std::optional<double> test_nll_;
};

struct MetricKind {
  std::string name;   // the metric's name in metrics.def (its values may be several keys)
  std::string about;  // one line
  unsigned needs = 0;  // MetricNeeds
  std::function<Metrics(const EvalInputs&)> compute;
};

// Every metric, built-in (metrics.def) first, then those registered, in order.
const std::vector<MetricKind>& metrics();
// Adds a metric; a name already known is an error.
void register_metric(MetricKind kind);
// The validation split's NLL per token: what keep_best and early stopping read (trainers/loop/loop.cpp).
inline constexpr const char* kValidationMetric = "nll_valid";
// kValidationMetric (with a validation split), then the values of every metric whose needs are
// met, in registry order.
Metrics evaluate_metrics(const EvalInputs& in);

}  // namespace coopgen
