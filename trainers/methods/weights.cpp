#include "trainers/methods/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "engine/logspace.h"

namespace coopgen {

double log_target_weight(double d_logit, Target target) {
  switch (target) {
    case Target::p: return 0.0;
    case Target::p_d: return log_sigmoid(d_logit);
    case Target::p_d_odds: return d_logit;
  }
  return 0.0;
}

std::vector<double> log_importance_weights(const std::vector<double>& logp, const std::vector<double>& logq,
                                           const std::vector<double>& d_logits, Target target) {
  const bool p_only = target == Target::p;
  CG_CHECK(logp.size() == logq.size() && (p_only || logp.size() == d_logits.size()), "importance weights: ",
           logp.size(), " log p, ", logq.size(), " log q̂ and ", d_logits.size(), " D logits");
  std::vector<double> out(logp.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = logp[i] - logq[i] + (p_only ? 0.0 : log_target_weight(d_logits[i], target));
  return out;
}

std::vector<double> self_normalise(const std::vector<double>& log_w) {
  double top = -std::numeric_limits<double>::infinity();
  for (double v : log_w)
    if (std::isfinite(v)) top = std::max(top, v);
  std::vector<double> w(log_w.size(), 0.0);
  if (!std::isfinite(top)) return w;
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i) total += w[i] = std::isfinite(log_w[i]) ? std::exp(log_w[i] - top) : 0.0;
  for (double& v : w) v /= total;  // total ≥ 1: the largest term is exp(0)
  return w;
}

double effective_sample_size(const std::vector<double>& w) {
  double s = 0, s2 = 0;
  for (double v : w) s += v, s2 += v * v;
  return s2 > 0 ? s * s / s2 : 0.0;
}

std::vector<double> reinforce_weights(const std::vector<double>& d, const std::vector<double>& logp, bool baseline,
                                      double entropy_bonus) {
  CG_CHECK(d.size() == logp.size() && !d.empty(), "REINFORCE weights: ", d.size(), " rewards and ", logp.size(), " log p");
  std::vector<double> r(d.size());
  double mean = 0;
  for (size_t i = 0; i < r.size(); ++i) mean += r[i] = d[i] - entropy_bonus * logp[i];
  mean /= double(r.size());
  for (double& v : r) v = (v - (baseline ? mean : 0.0)) / double(r.size());
  return r;
}

std::vector<size_t> resample(const std::vector<double>& w, int64_t m, uint64_t seed) {
  CG_CHECK(!w.empty() && m >= 0, "resample: ", m, " draws from ", w.size(), " candidates");
  std::vector<double> cdf(w.size());
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i) cdf[i] = total += w[i];
  std::mt19937_64 rng(seed);
  std::vector<size_t> out(static_cast<size_t>(m));
  for (size_t& idx : out) {
    const double u = double(rng() >> 11) * 0x1.0p-53;  // uniform in [0, 1), the same on every platform
    if (total <= 0) {
      idx = size_t(u * double(w.size()));
      continue;
    }
    idx = size_t(std::upper_bound(cdf.begin(), cdf.end(), u * total) - cdf.begin());
    idx = std::min(idx, w.size() - 1);
  }
  return out;
}

TargetShift target_shift(const std::vector<double>& heldout_logits, double heldout_tokens,
                         const std::vector<double>& sample_logits, Target target, size_t groups) {
  CG_CHECK(!heldout_logits.empty() && !sample_logits.empty() && heldout_tokens > 0, "target_shift: no sequences");
  CG_CHECK(groups > 0 && heldout_logits.size() % groups == 0 && sample_logits.size() % groups == 0, "target_shift: ",
           heldout_logits.size(), " held-out and ", sample_logits.size(), " sampled sequences in ", groups, " groups");
  const size_t n = heldout_logits.size() / groups, m = sample_logits.size() / groups;
  double shift = 0, var = 0;
  for (size_t g = 0; g < groups; ++g) {
    std::vector<double> lw;
    for (size_t k = g * m; k < (g + 1) * m; ++k) lw.push_back(log_target_weight(sample_logits[k], target));
    const double log_mean = log_sum_exp(lw) - std::log(double(m));
    // sd(w)/mean(w) from w/mean(w), which stays finite whatever the scale of w.
    double sq = 0;
    for (double v : lw) sq += (std::exp(v - log_mean) - 1) * (std::exp(v - log_mean) - 1);
    shift += double(n) * log_mean;
    for (size_t i = g * n; i < (g + 1) * n; ++i) shift -= log_target_weight(heldout_logits[i], target);
    var += double(n * n) * sq / std::max(1.0, double(m) - 1) / double(m);
  }
  return {shift / heldout_tokens, std::sqrt(var) / heldout_tokens};
}

}  // namespace coopgen
