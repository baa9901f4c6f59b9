// The generator step's sample weights against hand-computed cases (trainers/methods/weights.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>

#include "trainers/methods/with_discriminator.h"
#include "trainers/methods/weights.h"

using namespace coopgen;
using Catch::Detail::Approx;

static double logit(double d) { return std::log(d / (1 - d)); }

TEST_CASE("GCN weights with q̂ = p are D(y) / Σ D", "[weights]") {
  const std::vector<double> logp{-3.0, -7.5, -1.25}, d{0.2, 0.5, 0.3};
  std::vector<double> x;
  for (double v : d) x.push_back(logit(v));
  const auto w = self_normalise(log_importance_weights(logp, logp, x, Target::p_d));
  REQUIRE(w[0] == Approx(0.2));
  REQUIRE(w[1] == Approx(0.5));
  REQUIRE(w[2] == Approx(0.3));
  REQUIRE(effective_sample_size(w) == Approx(1.0 / (0.04 + 0.25 + 0.09)));
}

TEST_CASE("GCN weights with a truncated proposal: p·D/q̂, and the p·D/(1−D) target", "[weights]") {
  // Two samples: p = 0.1, 0.3; q̂ = 0.25, 0.5 (nucleus renormalised); D = 0.8, 0.4.
  const std::vector<double> logp{std::log(0.1), std::log(0.3)}, logq{std::log(0.25), std::log(0.5)};
  const std::vector<double> x{logit(0.8), logit(0.4)};
  const double a = 0.1 * 0.8 / 0.25, b = 0.3 * 0.4 / 0.5;  // 0.32, 0.24
  auto w = self_normalise(log_importance_weights(logp, logq, x, Target::p_d));
  REQUIRE(w[0] == Approx(a / (a + b)));
  REQUIRE(w[1] == Approx(b / (a + b)));
  const double c = 0.1 * 4.0 / 0.25, e = 0.3 * (0.4 / 0.6) / 0.5;  // D/(1−D) = 4, 2/3
  w = self_normalise(log_importance_weights(logp, logq, x, Target::p_d_odds));
  REQUIRE(w[0] == Approx(c / (c + e)));
  REQUIRE(w[1] == Approx(e / (c + e)));
  // The target p itself (GCN's baseline): p/q̂ = 0.4, 0.6, D unused.
  w = self_normalise(log_importance_weights(logp, logq, {}, Target::p));
  REQUIRE(w[0] == Approx(0.4));
  REQUIRE(w[1] == Approx(0.6));
}

TEST_CASE("log-space normalisation survives log-probabilities that underflow exp()", "[weights]") {
  // exp(−900) is 0 in double; the weights are still exact ratios: e^{−900}: e^{−901}: e^{−903}.
  const std::vector<double> logp{-900.0, -901.0, -903.0}, logq(3, 0.0), x(3, 30.0);  // D ≈ 1, log D ≈ −1e−13
  const auto w = self_normalise(log_importance_weights(logp, logq, x, Target::p_d));
  const double z = 1 + std::exp(-1.0) + std::exp(-3.0);
  REQUIRE(w[0] == Approx(1 / z));
  REQUIRE(w[1] == Approx(std::exp(-1.0) / z));
  REQUIRE(w[2] == Approx(std::exp(-3.0) / z));
  // A discriminator logit of −800 (D = e^{−800}) is still a finite log-weight, not log 0.
  const auto lw = log_importance_weights({-1.0}, {-1.0}, {-800.0}, Target::p_d);
  REQUIRE(lw[0] == Approx(-800.0));
}

TEST_CASE("a batch with no possible sample gets zero weights, not NaN", "[weights]") {
  const double inf = std::numeric_limits<double>::infinity();
  const auto w = self_normalise({-inf, -inf, -inf});
  for (double v : w) REQUIRE(v == 0.0);
  REQUIRE(effective_sample_size(w) == 0.0);
  const auto some = self_normalise({-inf, std::log(2.0), std::log(6.0)});
  REQUIRE(some[0] == 0.0);
  REQUIRE(some[1] == Approx(0.25));
  REQUIRE(some[2] == Approx(0.75));
}

TEST_CASE("REINFORCE weights: reward minus the mean reward, over M, with the entropy bonus", "[weights]") {
  const std::vector<double> d{0.9, 0.1, 0.5, 0.5}, logp{-2.0, -4.0, -6.0, -8.0};
  auto w = reinforce_weights(d, logp, false, 0.0);
  REQUIRE(w[0] == Approx(0.9 / 4));
  REQUIRE(w[1] == Approx(0.1 / 4));
  w = reinforce_weights(d, logp, true, 0.0);  // mean reward 0.5
  REQUIRE(w[0] == Approx(0.4 / 4));
  REQUIRE(w[1] == Approx(-0.4 / 4));
  REQUIRE(w[2] == Approx(0.0).margin(1e-15));
  w = reinforce_weights(d, logp, true, 0.1);  // r = d + 0.1·(2, 4, 6, 8) = 1.1, 0.5, 1.1, 1.3; mean 1.0
  REQUIRE(w[0] == Approx(0.1 / 4));
  REQUIRE(w[1] == Approx(-0.5 / 4));
  REQUIRE(w[3] == Approx(0.3 / 4));
}

TEST_CASE("resampling draws each candidate in proportion to its weight", "[weights]") {
  const std::vector<double> w{0.0, 0.5, 0.125, 0.375};
  const auto idx = resample(w, 80000, 7);
  std::map<size_t, double> count;
  for (size_t i : idx) count[i] += 1.0 / 80000;
  REQUIRE(count[0] == 0.0);  // a zero weight is never drawn
  for (size_t i = 1; i < 4; ++i) REQUIRE(count[i] == Approx(w[i]).margin(0.01));  // 4.5σ at n = 80,000
  REQUIRE(resample(w, 50, 3) == resample(w, 50, 3));
  const auto uniform = resample({0.0, 0.0}, 1000, 1);  // all-zero weights: uniform, no NaN index
  for (size_t i : uniform) REQUIRE(i < 2);
}

TEST_CASE("conditional generation: GCN weights are normalised per source", "[weights]") {
  RunConfig cfg;
  cfg.method = Method::gcn;
  cfg.adversarial.samples = 3;
  const Strategy gcn = strategy_for(cfg);
  // Two sources, three samples each (q̂ = p): within a source w ∝ D, each source's weights sum to
  // 1/2, whatever the other source's D values are.
  const std::vector<double> d{0.2, 0.5, 0.3, 0.9, 0.9, 0.01}, logp{-3, -7, -1, -2, -9, -4};
  std::vector<double> x;
  for (double v : d) x.push_back(logit(v));
  SampledSet drawn{{{1}, {2}, {3}, {4}, {5}, {6}}, logp, logp};
  const WeightedSamples ws = weigh_per_context(gcn, drawn, x, 3, cfg.adversarial, 1);
  REQUIRE(ws.seqs == Sequences{{1}, {2}, {3}, {4}, {5}, {6}});
  const double z1 = 0.2 + 0.5 + 0.3, z2 = 0.9 + 0.9 + 0.01;
  for (size_t i = 0; i < 3; ++i) REQUIRE(ws.w[i] == Approx(0.5 * d[i] / z1));
  for (size_t i = 3; i < 6; ++i) REQUIRE(ws.w[i] == Approx(0.5 * d[i] / z2));
  // The logged ESS is the mean of the two sources' (Σw)²/Σw².
  const double ess1 = z1 * z1 / (0.04 + 0.25 + 0.09), ess2 = z2 * z2 / (0.81 + 0.81 + 0.0001);
  REQUIRE(ws.stats.at(0).first == "ess");
  REQUIRE(ws.stats.at(0).second == Approx((ess1 + ess2) / 2));
  // One group is the strategy itself: normalised over all six.
  const WeightedSamples one = weigh_per_context(gcn, drawn, x, 6, cfg.adversarial, 1);
  REQUIRE(one.w[3] == Approx(0.9 / (z1 + z2)));
}

TEST_CASE("the target's shift from samples matches KL(p*‖q) − KL(p*‖p) computed exactly", "[weights]") {
  // Five outcomes of one token each: p*, p, and D* = p*/(p* + p) (tempered by β to make D inexact).
  const std::vector<double> ps{0.4, 0.3, 0.15, 0.1, 0.05}, p{0.1, 0.2, 0.2, 0.2, 0.3};
  for (Target target : {Target::p_d, Target::p_d_odds}) {
    for (double beta : {1.0, 0.5}) {
      INFO(name_of(target) << " β " << beta);
      std::vector<double> x(5), w(5);
      for (size_t k = 0; k < 5; ++k) {
        x[k] = beta * std::log(ps[k] / p[k]);  // D's logit
        w[k] = target == Target::p_d ? 1 / (1 + std::exp(-x[k])) : std::exp(x[k]);
      }
      // Exactly: q ∝ p·w, KL(p*‖q) − KL(p*‖p) = −E_p*[log w] + log E_p[w].
      double e_star = 0, z = 0;
      for (size_t k = 0; k < 5; ++k) e_star += ps[k] * std::log(w[k]), z += p[k] * w[k];
      const double exact = -e_star + std::log(z);
      // From samples: held-out draws of p*, the normaliser from draws of p.
      std::mt19937_64 rng(7);
      std::discrete_distribution<int> draw_star(ps.begin(), ps.end()), draw_p(p.begin(), p.end());
      std::vector<double> held, fresh;
      for (int i = 0; i < 200000; ++i) held.push_back(x[size_t(draw_star(rng))]), fresh.push_back(x[size_t(draw_p(rng))]);
      const TargetShift t = target_shift(held, double(held.size()), fresh, target);
      REQUIRE(t.shift == Approx(exact).margin(0.01));
      REQUIRE(t.se > 0);
      REQUIRE(t.se < 0.01);
    }
  }
  REQUIRE(-target_shift({0.0}, 1, {0.0}, Target::p_d).shift == Approx(0).margin(1e-12));  // D = ½ everywhere: q = p
}

TEST_CASE("a conditional target's shift normalises each source apart, as computed exactly", "[weights]") {
  // Two sources with three outcomes each: p*(·|x), p(·|x) and D's logit log p*/p tempered by β = 0.7;
  // p is far from p* on the first source (E_p[D] ≈ 0.05), exact on the second (E_p[D] = ½), so
  // q(y|x) ∝ p(y|x)·D(x, y), normalised per source, differs from p·D normalised once.
  const std::vector<std::vector<double>> ps{{0.98, 0.01, 0.01}, {0.2, 0.3, 0.5}}, p{{0.01, 0.01, 0.98}, {0.2, 0.3, 0.5}};
  const int n = 100000, m = 100000;
  double exact = 0;
  std::vector<double> held, fresh;
  std::mt19937_64 rng(11);
  for (size_t g = 0; g < 2; ++g) {
    std::vector<double> x(3);
    double e_star = 0, z = 0;
    for (size_t k = 0; k < 3; ++k) {
      x[k] = 0.7 * std::log(ps[g][k] / p[g][k]);
      const double w = 1 / (1 + std::exp(-x[k]));
      e_star += ps[g][k] * std::log(w), z += p[g][k] * w;
    }
    exact += 0.5 * (-e_star + std::log(z));  // n one-token targets a source: T = 2n
    std::discrete_distribution<int> draw_star(ps[g].begin(), ps[g].end()), draw_p(p[g].begin(), p[g].end());
    for (int i = 0; i < n; ++i) held.push_back(x[size_t(draw_star(rng))]);
    for (int j = 0; j < m; ++j) fresh.push_back(x[size_t(draw_p(rng))]);
  }
  const TargetShift t = target_shift(held, 2.0 * n, fresh, Target::p_d, 2);
  REQUIRE(t.shift == Approx(exact).margin(0.005));
  REQUIRE(t.se > 0);
  REQUIRE(t.se < 0.005);
  REQUIRE(std::fabs(target_shift(held, 2.0 * n, fresh, Target::p_d).shift - exact) > 0.3);  // one shared normaliser
  REQUIRE_THROWS_WITH(target_shift(held, 2.0 * n, fresh, Target::p_d, 3), Catch::Contains("in 3 groups"));
}
