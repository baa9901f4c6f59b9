// The likelihood metrics: NLL-test (every task), and on the oracle NLL-oracle and KL(p*‖p).
#include "trainers/eval/metrics.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

MetricKind metric_nll_test() {
  return {"nll_test", "the mean per-token NLL of the test set under the generator (conditional tasks: the targets)", 0,
          [](const EvalInputs& in) -> Metrics { return {{"nll_test", in.test_nll()}}; }};
}

MetricKind metric_nll_oracle() {
  return {"nll_oracle", "−(1/L)·mean log p*(y) of train.eval_samples samples of the generator (Yu et al. 2017)",
          kNeedsDataModel | kNeedsUnconditional,
          [](const EvalInputs& in) -> Metrics { return {{"nll_oracle", in.task.data_model()->nll(in.samples())}}; }};
}

// NLL-test − the data model's own NLL of the same test sequences: the Monte Carlo estimate of
// KL(p*‖p) per token.
MetricKind metric_kl_test() {
  return {"kl_test", "KL(p*‖p) per token on the test set: NLL-test − H(p*) estimated on the same sequences", kNeedsDataModel,
          [](const EvalInputs& in) -> Metrics {
            return {{"kl_test", in.test_nll() - in.task.test_nll_data}};
          }};
}

}  // namespace coopgen
