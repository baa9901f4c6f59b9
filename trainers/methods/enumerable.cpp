#include "trainers/methods/enumerable.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "engine/logspace.h"
#include "engine/random.h"
#include "trainers/methods/weights.h"

namespace coopgen::enumerable {

namespace {

// Sequence index → its tokens are the base-vocab digits; only the count matters here (INT64_MAX
// when it overflows).
int64_t sequences(int64_t vocab, int64_t length) {
  int64_t n = 1;
  for (int64_t t = 0; t < length; ++t)
    if (__builtin_mul_overflow(n, vocab, &n)) return INT64_MAX;
  return n;
}

// i from the inverse CDF of p at u ∈ [0, 1).
size_t draw(const std::vector<double>& p, double u) {
  double acc = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if ((acc += p[i]) > u) return i;
  return p.size() - 1;
}

// θ ← θ − lr · (p_θ − Σᵢ wᵢ e_{yᵢ}) `steps` times: gradient descent on −Σᵢ wᵢ log p_θ(yᵢ), Σ w = 1.
void descend(std::vector<double>& theta, const std::vector<double>& weight_of_sequence, int64_t steps, double lr) {
  for (int64_t k = 0; k < steps; ++k) {
    const std::vector<double> p = softmax(theta);
    for (size_t i = 0; i < theta.size(); ++i) theta[i] -= lr * (p[i] - weight_of_sequence[i]);
  }
}

}  // namespace

Problem random_problem(int64_t vocab, int64_t length, uint64_t seed, double spread) {
  const int64_t n = sequences(vocab, length);
  CG_CHECK(vocab >= 2 && length >= 1 && n <= 4096, "enumerable problem: vocabulary ", vocab, ", length ", length);
  Problem pr{vocab, length, {}, {}};
  std::vector<double> logits(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    logits[size_t(i)] = spread * random::normal(random::stream(seed, i, 1));
    pr.theta.push_back(0.5 * spread * random::normal(random::stream(seed, i, 2)));
  }
  pr.p_star = softmax(logits);
  return pr;
}

std::vector<double> softmax(const std::vector<double>& theta) {
  const double lz = log_sum_exp(theta);
  std::vector<double> p(theta.size());
  for (size_t i = 0; i < p.size(); ++i) p[i] = std::exp(theta[i] - lz);
  return p;
}

double kl(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] > 0) d += a[i] * (std::log(a[i]) - std::log(b[i]));
  return d;
}

std::vector<double> target(const std::vector<double>& p, const std::vector<double>& p_star, Target kind,
                           double beta) {
  // log D*/(1−D*) = log p* − log p (times β); log D* = log_sigmoid of it. In log space, as the trainer does.
  std::vector<double> logp(p.size()), logq(p.size()), x(p.size());
  for (size_t i = 0; i < p.size(); ++i) logp[i] = logq[i] = std::log(p[i]), x[i] = beta * (std::log(p_star[i]) - logp[i]);
  std::vector<double> lw = log_importance_weights(logp, logq, x, kind);  // log D* (or log odds), q̂ = p
  for (size_t i = 0; i < p.size(); ++i) lw[i] += logp[i];
  return self_normalise(lw);
}

std::vector<double> kl_curve(const Problem& pr, const Update& u, int64_t iterations) {
  std::vector<double> theta = pr.theta, curve{kl(pr.p_star, softmax(pr.theta))};
  for (int64_t t = 0; t < iterations; ++t) {
    const std::vector<double> p = softmax(theta);
    if (u.kind == UpdateKind::exact) {
      const std::vector<double> q = target(p, pr.p_star, u.target, u.beta);
      for (size_t i = 0; i < q.size(); ++i) theta[i] = std::log(q[i]);
    } else if (u.kind == UpdateKind::gradient) {
      descend(theta, target(p, pr.p_star, u.target, u.beta), u.steps, u.lr);
    } else {  // sampled, reinforce
      // M draws from q̂ = p_t, with their log p, log q̂ and D*'s logits.
      std::vector<size_t> ys;
      std::vector<double> logp, x, d;
      for (int64_t m = 0; m < u.samples; ++m) {
        ys.push_back(draw(p, random::uniform(random::stream(u.seed, t * u.samples + m, 3))));
        logp.push_back(std::log(p[ys.back()]));
        x.push_back(u.beta * (std::log(pr.p_star[ys.back()]) - logp.back()));
        d.push_back(std::exp(log_sigmoid(x.back())));
      }
      const std::vector<double> w = u.kind == UpdateKind::sampled ? self_normalise(log_importance_weights(logp, logp, x, u.target))
                                                        : reinforce_weights(d, logp, true, 0.0);
      std::vector<double> per_sequence(p.size(), 0.0);
      for (size_t m = 0; m < ys.size(); ++m) per_sequence[ys[m]] += w[m];
      if (u.kind == UpdateKind::sampled) {
        descend(theta, per_sequence, u.steps, u.lr);
      } else {  // ascent on Σᵢ wᵢ log p_θ(yᵢ): θ += lr Σᵢ wᵢ (e_{yᵢ} − p), Σ wᵢ = 0 with the baseline
        double total = 0;
        for (double v : w) total += v;
        for (size_t i = 0; i < theta.size(); ++i) theta[i] += u.lr * (per_sequence[i] - total * p[i]);
      }
    }
    curve.push_back(kl(pr.p_star, softmax(theta)));
  }
  return curve;
}

void write_report(const std::string& csv_path, int64_t problems, int64_t vocab, int64_t length, int64_t iterations) {
  if (vocab < 2 || length < 1 || sequences(vocab, length) > 4096)
    fail("enumerate: --vocab ", vocab, " and --length ", length, ": at most 4096 sequences (vocab^length) can be enumerated");
  const std::vector<std::pair<std::string, Update>> updates = {
      {"exact", {UpdateKind::exact, Target::p_d, 0, 0, 0, 0}},
      {"gradient_1step_lr1", {UpdateKind::gradient, Target::p_d, 1, 1.0, 0, 0}},
      {"gradient_5steps_lr1", {UpdateKind::gradient, Target::p_d, 5, 1.0, 0, 0}},
      {"sampled_m16_5steps", {UpdateKind::sampled, Target::p_d, 5, 1.0, 16, 11}},
      {"sampled_m256_5steps", {UpdateKind::sampled, Target::p_d, 5, 1.0, 256, 11}},
      {"reinforce_m16_lr1", {UpdateKind::reinforce, Target::p_d, 1, 1.0, 16, 11}},
      {"reinforce_m256_lr1", {UpdateKind::reinforce, Target::p_d, 1, 1.0, 256, 11}},
      {"reinforce_m256_lr10", {UpdateKind::reinforce, Target::p_d, 1, 10.0, 256, 11}},
      {"exact_beta0.25", {UpdateKind::exact, Target::p_d, 0, 0, 0, 0, 0.25}},
      {"sampled_m16_5steps_beta0.25", {UpdateKind::sampled, Target::p_d, 5, 1.0, 16, 11, 0.25}},
  };
  const std::filesystem::path path(csv_path), tmp = path.string() + ".tmp";
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream f(tmp);
  if (!f) fail(tmp.string(), ": cannot write");
  f << "problem,update,iteration,kl\n";
  for (int64_t k = 0; k < problems; ++k) {
    const Problem pr = random_problem(vocab, length, uint64_t(k) + 1);
    for (const auto& [name, u] : updates) {
      Update with_seed = u;
      with_seed.seed = u.seed + uint64_t(k);
      const std::vector<double> c = kl_curve(pr, with_seed, iterations);
      for (size_t t = 0; t < c.size(); ++t) {
        char line[160];
        std::snprintf(line, sizeof line, "%lld,%s,%zu,%.6e\n", (long long)k, name.c_str(), t, c[t]);
        f << line;
      }
    }
  }
  f.close();
  if (!f) fail(tmp.string(), ": write failed");
  std::filesystem::rename(tmp, path);
}

}  // namespace coopgen::enumerable
