// Host-side arithmetic in log space, in double, shared by the models and trainers that read
// logits back (samplers on the host, exact sequence log-probabilities, importance weights).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/vecmath.h"

namespace coopgen {

// log 0: an empty beam slot, a pruned branch, the log-sum of nothing.
inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log Σ_v exp(scale · x_v) over x[0, n), scale > 0, max-subtracted and summed in double; −∞ for
// n = 0 or all x = −∞, NaN if any x is NaN, else +∞ if any is +∞. f32 rows (logits read back)
// take their exponentials in f32 (cpu::vexpf, within 2 ulp), f64 rows in f64.
template <class T> double log_sum_exp(const T* x, int64_t n, double scale = 1.0) {
  if (n <= 0) return kNegInf;
  bool bad;  // a NaN (the result is NaN) or +∞ (+∞)
  const T top = cpu::row_max(x, n, bad);
  if (bad) return std::any_of(x, x + n, [](T v) { return v != v; }) ? std::nan("") : INFINITY;
  const double m = scale * double(top);
  if (!std::isfinite(m)) return m;
  return m + std::log(cpu::sum_exp_shifted(x, n, top, T(scale)));
}
inline double log_sum_exp(const std::vector<double>& x) { return log_sum_exp(x.data(), int64_t(x.size())); }

// σ(x) = 1/(1 + e^−x) (D from its logit).
inline double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// log σ(x) = −log(1 + e^−x), without overflow for either sign.
inline double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

// A discriminator's binary cross-entropy on one sequence of logit x: −log σ(x) for a real one,
// −log σ(−x) = −log(1 − σ(x)) for a generated one.
inline double bce_with_logit(double x, bool real) { return -(real ? log_sigmoid(x) : log_sigmoid(-x)); }

}  // namespace coopgen
