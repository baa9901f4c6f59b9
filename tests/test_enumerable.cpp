// The convergence claim of GCN (Lamprier et al. 2022) as a test, on problems small enough to
// enumerate (trainers/methods/enumerable.h): with the optimal discriminator D* = p*/(p* + p) and the
// M-step solved exactly, iterating p_{t+1} ∝ p_t·D*_t never increases KL(p*‖p_t) and drives it to
// zero (so does a tempered D*, more slowly), while the target p·D*/(1 − D*) is p* after one iteration. The numbers the test compares
// with are closed forms (p* itself) and the KL computed from the definition.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/logspace.h"
#include "engine/random.h"
#include "trainers/decoding/decoders.h"
#include "trainers/methods/enumerable.h"

using namespace coopgen;
using namespace coopgen::enumerable;

TEST_CASE("exact GCN iterations with D*, tempered or not, never increase KL(p*||p) and converge", "[enumerable]") {
  // β < 1 (D = σ(β·log p*/p), discriminator.logit_scale) keeps p* the only fixed point and slows
  // the contraction: where p*/p ≪ 1 the iteration is p ← p^(1−β)·p*^β.
  for (const double beta : {1.0, 0.5, 0.25}) {
    for (const auto& [vocab, length] : {std::pair<int64_t, int64_t>{3, 3}, {4, 3}, {2, 5}})
      for (uint64_t seed = 1; seed <= 5; ++seed) {
        const Problem pr = random_problem(vocab, length, seed);
        Update exact{UpdateKind::exact, Target::p_d};
        exact.beta = beta;
        const std::vector<double> c = kl_curve(pr, exact, 200);
        INFO("β " << beta << ", V " << vocab << ", length " << length << ", problem " << seed << ": KL " << c.front() << " → "
                  << c.back());
        REQUIRE(c.front() > 0.05);  // a real distance to cover
        // KL summed in double over ≤ 64 terms is exact to about 1e-15 (it can even come out −1e-16).
        for (size_t t = 1; t < c.size(); ++t) REQUIRE(c[t] <= c[t - 1] + 1e-14);
        size_t first_below = 0;
        while (first_below < c.size() && c[first_below] >= 1e-3) ++first_below;
        REQUIRE(first_below < 60);
        REQUIRE(std::fabs(c.back()) < 1e-12);
      }
  }
}

TEST_CASE("the target p·D*/(1−D*) is p* after one exact iteration", "[enumerable]") {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const Problem pr = random_problem(4, 3, seed);
    const std::vector<double> q = target(softmax(pr.theta), pr.p_star, Target::p_d_odds);
    for (size_t i = 0; i < q.size(); ++i) REQUIRE(q[i] == Approx(pr.p_star[i]).epsilon(1e-12));
    REQUIRE(std::fabs(kl_curve(pr, {UpdateKind::exact, Target::p_d_odds}, 1).back()) < 1e-14);
  }
}

TEST_CASE("the p·D* target is p·p*/(p + p*) normalised, with normaliser at most 1/2; tempered, p/(1 + √(p/p*))", "[enumerable]") {
  const Problem pr = random_problem(3, 3, 7);
  const std::vector<double> p = softmax(pr.theta), q = target(p, pr.p_star, Target::p_d);
  double z = 0;
  for (size_t i = 0; i < p.size(); ++i) z += p[i] * pr.p_star[i] / (p[i] + pr.p_star[i]);
  REQUIRE(z <= 0.5);
  for (size_t i = 0; i < p.size(); ++i) REQUIRE(q[i] == Approx(p[i] * pr.p_star[i] / (p[i] + pr.p_star[i]) / z).epsilon(1e-12));
  // Tempered by β = 0.5: D = σ(½ log p*/p) = 1/(1 + √(p/p*)).
  const std::vector<double> qt = target(p, pr.p_star, Target::p_d, 0.5);
  double zt = 0;
  for (size_t i = 0; i < p.size(); ++i) zt += p[i] / (1 + std::sqrt(p[i] / pr.p_star[i]));
  for (size_t i = 0; i < p.size(); ++i) REQUIRE(qt[i] == Approx(p[i] / (1 + std::sqrt(p[i] / pr.p_star[i])) / zt).epsilon(1e-12));
}

// Reranking with resampling (sampling-importance-resampling) from q̂ = p with the weights D*: its
// outputs are distributed as q ∝ p·D* in the limit of many candidates. Total-variation distance of
// the empirical output distribution from q, against the number of candidates N.
TEST_CASE("reranking by resampling approaches q = p·D* as the candidates grow", "[enumerable][decoding]") {
  const Problem pr = random_problem(3, 3, 3);
  const std::vector<double> p = softmax(pr.theta), q = target(p, pr.p_star, Target::p_d);
  auto tv_at = [&](int64_t N) {
    const int64_t trials = 40000;
    std::vector<double> freq(p.size(), 0.0);
    for (int64_t k = 0; k < trials; ++k) {
      std::vector<size_t> ys;
      std::vector<double> log_w;
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0, u = random::uniform(random::stream(uint64_t(N), k * N + j, 1));
        size_t y = 0;
        while (y + 1 < p.size() && (acc += p[y]) <= u) ++y;
        ys.push_back(y);
        log_w.push_back(log_sigmoid(std::log(pr.p_star[y]) - std::log(p[y])));  // log p − log q̂ = 0
      }
      freq[ys[rerank_pick(log_w, true, random::uniform(random::stream(uint64_t(N), k, 2)))]] += 1.0 / double(trials);
    }
    double tv = 0;
    for (size_t i = 0; i < q.size(); ++i) tv += 0.5 * std::fabs(freq[i] - q[i]);
    return tv;
  };
  double tv_pq = 0;
  for (size_t i = 0; i < q.size(); ++i) tv_pq += 0.5 * std::fabs(p[i] - q[i]);
  const double tv1 = tv_at(1), tv8 = tv_at(8), tv64 = tv_at(64);
  INFO("TV(p, q) " << tv_pq << "; rerank N=1 " << tv1 << ", N=8 " << tv8 << ", N=64 " << tv64);
  REQUIRE(tv_pq > 0.1);
  REQUIRE(std::fabs(tv1 - tv_pq) < 0.03);  // one candidate: a draw from p
  REQUIRE(tv8 < tv1);
  REQUIRE(tv64 < tv8);
  REQUIRE(tv64 < 0.04);
}

TEST_CASE("rerank_pick: argmax, and resampling by cumulative weight", "[decoding]") {
  const std::vector<double> lw{std::log(0.1), std::log(0.6), std::log(0.3)};
  REQUIRE(rerank_pick(lw, false, 0.99) == 1);
  REQUIRE(rerank_pick(lw, true, 0.05) == 0);
  REQUIRE(rerank_pick(lw, true, 0.5) == 1);
  REQUIRE(rerank_pick(lw, true, 0.75) == 2);
}
