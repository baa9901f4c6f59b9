// The sampler against closed forms: frequencies match q̂ within a few standard errors, and log p /
// log q̂ equal the values computed here from the definition of each truncation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/logspace.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "kernels/cpu/vecmath.h"
#include "tests/op_cases.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;
using coopgen::testing::sampling;

namespace {

// `rows` copies of the given logits (f64 CPU).
Tensor repeat_rows(const std::vector<double>& logits, int64_t rows) {
  std::vector<double> all;
  for (int64_t r = 0; r < rows; ++r) all.insert(all.end(), logits.begin(), logits.end());
  return Tensor::from(all, {rows, int64_t(logits.size())});
}

// Draws `rows` samples and checks frequencies against `q` (4.5 standard errors) and the logs.
void check(const std::vector<double>& p, const SamplingConfig& cfg, const std::vector<double>& q) {
  std::vector<double> logits;
  for (double x : p) logits.push_back(std::log(x) + 1.7);  // an offset the softmax removes
  const int64_t rows = 40000;
  Samples s = sample_logits(repeat_rows(logits, rows), cfg, 123, 7);
  std::vector<int32_t> tok = s.tokens.to_vector<int32_t>();
  std::vector<double> lp = s.logp.to_vector<double>(), lq = s.logq.to_vector<double>();
  std::vector<double> freq(p.size(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const size_t v = size_t(tok[size_t(r)]);
    REQUIRE(v < p.size());
    freq[v] += 1.0;
    REQUIRE(lp[size_t(r)] == Approx(std::log(p[v])).margin(1e-12));
    REQUIRE(lq[size_t(r)] == Approx(std::log(q[v])).margin(1e-12));
  }
  for (size_t v = 0; v < p.size(); ++v) {
    freq[v] /= double(rows);
    INFO("token " << v << ": frequency " << freq[v] << ", q̂ " << q[v]);
    REQUIRE(std::fabs(freq[v] - q[v]) <= 4.5 * std::sqrt(q[v] * (1 - q[v]) / double(rows)) + 1e-12);
  }
}

}  // namespace

TEST_CASE("sampling from p, tempered, top-k, top-p and min-p", "[sampling]") {
  const std::vector<double> p{0.1, 0.2, 0.3, 0.4};
  SECTION("plain: q̂ = p") { check(p, {}, p); }
  SECTION("temperature 2: q̂ ∝ p^(1/2)") {
    std::vector<double> q;
    double z = 0;
    for (double x : p) z += std::sqrt(x);
    for (double x : p) q.push_back(std::sqrt(x) / z);
    check(p, sampling(2.0, 0, 1.0), q);
  }
  SECTION("top-k 2 keeps the two most likely tokens") { check(p, sampling(1.0, 2, 1.0), {0, 0, 0.3 / 0.7, 0.4 / 0.7}); }
  SECTION("top-p 0.5 keeps the smallest set holding half the mass") { check(p, sampling(1.0, 0, 0.5), {0, 0, 0.3 / 0.7, 0.4 / 0.7}); }
  SECTION("top-p 0.75 needs three tokens") { check(p, sampling(1.0, 0, 0.75), {0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9}); }
  SECTION("top-k 3 then top-p 0.6 of the remainder") { check(p, sampling(1.0, 3, 0.6), {0, 0, 0.3 / 0.7, 0.4 / 0.7}); }
  // The mixture q̂ = ε·p_τ + (1 − ε)·truncated(p_τ): every token keeps at least ε·p_τ.
  SECTION("mixture: ε = 0.5 of p and the top-p 0.5 nucleus") {
    check(p, sampling(1.0, 0, 0.5, 0.5), {0.05, 0.1, 0.15 + 0.5 * 0.3 / 0.7, 0.2 + 0.5 * 0.4 / 0.7});
  }
  SECTION("mixture: ε = 0.3 of p at temperature 2 and its top-2") {
    std::vector<double> t;
    double z = 0;
    for (double x : p) z += std::sqrt(x);
    for (double x : p) t.push_back(std::sqrt(x) / z);
    const double top2 = t[2] + t[3];
    check(p, sampling(2.0, 2, 1.0, 0.3), {0.3 * t[0], 0.3 * t[1], 0.3 * t[2] + 0.7 * t[2] / top2, 0.3 * t[3] + 0.7 * t[3] / top2});
  }
  // min-p keeps the tokens at least min_p times as likely as the most likely, after tempering.
  SECTION("min-p 0.45 keeps the tokens of at least 0.18") { check(p, sampling(1.0, 0, 1.0, 0.0, 0.45), {0, 0.2 / 0.9, 0.3 / 0.9, 0.4 / 0.9}); }
  SECTION("min-p 0.6 at temperature 2: √(p/0.4) ≥ 0.6") {
    const double z = std::sqrt(0.2) + std::sqrt(0.3) + std::sqrt(0.4);
    check(p, sampling(2.0, 0, 1.0, 0.0, 0.6), {0, std::sqrt(0.2) / z, std::sqrt(0.3) / z, std::sqrt(0.4) / z});
  }
  SECTION("top-k 3, then min-p 0.8 keeps the most likely alone") { check(p, sampling(1.0, 3, 1.0, 0.0, 0.8), {0, 0, 0, 1}); }
  SECTION("mixture: ε = 0.2 of p and min-p 0.7") {
    check(p, sampling(1.0, 0, 1.0, 0.2, 0.7), {0.02, 0.04, 0.06 + 0.8 * 0.3 / 0.7, 0.08 + 0.8 * 0.4 / 0.7});
  }
  SECTION("mixture without truncation is p itself") { check(p, sampling(1.0, 0, 1.0, 0.4), p); }
  SECTION("ε = 1 is the untruncated p_τ") { check(p, sampling(1.0, 1, 0.5, 1.0), p); }
}

TEST_CASE("greedy decoding, and the stream is addressed by (seed, offset)", "[sampling]") {
  Tensor logits = Tensor::uniform({50, 31}, 3, 0, -3, 3, DType::F64);
  Samples g = sample_logits(logits, sampling(0.0, 0, 1.0), 1, 0);
  std::vector<double> l = logits.to_vector<double>();
  std::vector<int32_t> t = g.tokens.to_vector<int32_t>();
  for (int64_t r = 0; r < 50; ++r) {
    int64_t best = 0;
    for (int64_t v = 1; v < 31; ++v)
      if (l[size_t(r * 31 + v)] > l[size_t(r * 31 + best)]) best = v;
    REQUIRE(t[size_t(r)] == best);
  }
  REQUIRE(sample_logits(logits, {}, 9, 4).tokens.to_vector<int32_t>() ==
          sample_logits(logits, {}, 9, 4).tokens.to_vector<int32_t>());
  REQUIRE(sample_logits(logits, {}, 9, 4).tokens.to_vector<int32_t>() !=
          sample_logits(logits, {}, 9, 5).tokens.to_vector<int32_t>());
  REQUIRE_THROWS_WITH(sample_logits(logits, sampling(1.0, -1, 1.0), 1, 0), Catch::Contains("top_k must be ≥ 0, got -1"));
  REQUIRE_THROWS_WITH(sample_logits(logits, sampling(1.0, 0, 1.5), 1, 0), Catch::Contains("top_p must be (0, 1]"));
  REQUIRE_THROWS_WITH(sample_logits(logits, sampling(1.0, 0, 0.9, 1.5), 1, 0), Catch::Contains("mix must be [0, 1]"));
  REQUIRE_THROWS_WITH(sample_logits(logits, sampling(1.0, 0, 1.0, 0.0, -0.1), 1, 0), Catch::Contains("min_p must be [0, 1]"));
}

TEST_CASE("the sampler's settings: truncation, greedy and q = p asked once; the graph key tells every field apart", "[sampling]") {
  const SamplerSettings p{}, greedy = sampling(0.0), top_k = sampling(1.0, 5), top_p = sampling(1.0, 0, 0.9),
                        min_p = sampling(1.0, 0, 1.0, 0.0, 0.1);
  REQUIRE(p.is_p());
  REQUIRE_FALSE(p.truncated(10));
  REQUIRE(greedy.greedy());
  REQUIRE_FALSE(greedy.is_p());
  REQUIRE(top_k.truncated(10));
  REQUIRE_FALSE(top_k.truncated(5));  // k at or past the vocabulary keeps every token
  REQUIRE_FALSE(top_k.is_p());
  REQUIRE(top_p.truncated(1000000));
  REQUIRE(min_p.truncated(2));
  REQUIRE_FALSE(min_p.is_p());
  // Each field changed alone changes the key (a graph captured at other settings is never replayed).
  const SamplerSettings changed[] = {sampling(0.5), sampling(1.0, 3), sampling(1.0, 0, 0.7), sampling(1.0, 0, 1.0, 0.2),
                                     min_p};
  for (const SamplerSettings& c : changed) REQUIRE(c.key() != p.key());
  REQUIRE(SamplerSettings{}.key() == p.key());
}

TEST_CASE("a row whose logits define no distribution gets token -1; the others are drawn as usual", "[sampling]") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> rows{0.1, 0.2, 0.3, nan, 0.1, 0.2,   // NaN
                                 0.1, inf, 0.3, 0.4, 0.1, 0.2,   // +inf
                                 -inf, -inf, -inf, -inf, -inf, -inf,  // nothing possible
                                 0.1, -inf, 2.0, 0.4, -inf, 0.2};     // fine: −inf is an impossible token
  const Tensor logits = Tensor::from(rows, {4, 6});
  for (const SamplingConfig& cfg : {SamplingConfig{}, sampling(0.0, 0, 1.0), sampling(1.0, 3, 0.9, 0.5)}) {
    const Samples s = sample_logits(logits, cfg, 3, 1);
    const std::vector<int32_t> t = s.tokens.to_vector<int32_t>();
    const std::vector<double> lp = s.logp.to_vector<double>();
    for (int r = 0; r < 3; ++r) {
      REQUIRE(t[size_t(r)] == -1);
      REQUIRE(std::isnan(lp[size_t(r)]));
    }
    REQUIRE(t[3] >= 0);
    REQUIRE(t[3] != 1);
    REQUIRE(t[3] != 4);
    REQUIRE(std::isfinite(lp[3]));
  }
}

TEST_CASE("sequences end at their first <eos>, and their log p is the teacher-forced log-likelihood", "[sampling]") {
  const int32_t eos = 2, start = 1;
  Generator g({{16, 1, 2, 12, 0.5}}, 7, 3, Device::CPU);  // a wide init: <eos> comes at varied places
  SamplingConfig top_p;
  top_p.top_p = 0.8;
  const SampledSet s = sample_sequences(g, Prompts::unconditional(start, 40), 11, top_p, 17, eos);
  int ended = 0;
  for (size_t r = 0; r < s.seqs.size(); ++r) {
    const auto& q = s.seqs[r];
    REQUIRE(!q.empty());
    for (size_t t = 0; t + 1 < q.size(); ++t) REQUIRE(q[t] != eos);  // nothing after the first <eos>
    ended += q.back() == eos;
    // Σ_t log p(y_t | y_<t) by a full forward pass over <start> y_0 .. y_{T-2}.
    std::vector<int32_t> in{start};
    in.insert(in.end(), q.begin(), q.end() - 1);
    const int64_t T = int64_t(q.size());
    const Tensor loss = weighted_logprob(g.forward(Tensor::from(in, {1, T})), Tensor::from(q, {1, T}),
                                         Tensor::full({1, T}, 1.0), Tensor::full({1}, 1.0));
    REQUIRE(s.logp[r] == Approx(-loss.item()).epsilon(1e-4));
    REQUIRE(s.logq[r] >= s.logp[r]);  // the nucleus renormalises: q̂ ≥ p on every kept token
  }
  REQUIRE(ended > 5);
  REQUIRE(ended < 40);
}

TEST_CASE("the tree search's prior filter: the k largest logits, their ids and both normalisers", "[sampling]") {
  // Against a full sort of (logit, id) pairs and log-sum-exps in long double, on rows with ties,
  // impossible (−∞) tokens, fewer finite tokens than k, and rows without a distribution.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const int64_t V = 7;
  const std::vector<float> z = {0.5f, 2.0f, -1.0f, 2.0f, 0.5f, -3.0f, 1.0f,   // ties at 2 and 0.5
                                -inf, 1.0f, -inf, -inf, 0.0f, -inf, -inf,     // two finite tokens
                                0.1f, nan, 0.3f, 0.0f, 0.0f, 0.0f, 0.0f,      // NaN: no distribution
                                -inf, -inf, -inf, -inf, -inf, -inf, -inf};    // nothing possible
  for (int64_t k : {1, 3, 7, 9}) {
    const double tau = 0.7;
    const std::vector<float> out = top_k_logits(Tensor::from(z, {4, V}), k, tau).to_vector<float>();
    const int64_t kk = std::min(k, V), w = 2 * kk + 2;
    REQUIRE(int64_t(out.size()) == 4 * w);
    for (int64_t r = 0; r < 2; ++r) {
      std::vector<std::pair<float, int>> pairs;
      long double s = 0, s_t = 0;
      for (int v = 0; v < V; ++v) {
        const float x = z[size_t(r * V + v)];
        pairs.push_back({-x, v});
        s += std::exp((long double)x), s_t += std::exp((long double)x / tau);
      }
      std::sort(pairs.begin(), pairs.end());
      INFO("row " << r << ", k " << k);
      for (int64_t j = 0; j < kk; ++j) {
        REQUIRE(out[size_t(r * w + j)] == -pairs[size_t(j)].first);
        REQUIRE(out[size_t(r * w + kk + j)] == float(pairs[size_t(j)].second));
      }
      REQUIRE(out[size_t(r * w + 2 * kk)] == Approx(double(std::log(s))).epsilon(1e-6));
      REQUIRE(out[size_t(r * w + 2 * kk + 1)] == Approx(double(std::log(s_t))).epsilon(1e-6));
    }
    for (int64_t r = 2; r < 4; ++r) {
      REQUIRE(std::isnan(out[size_t(r * w + 2 * kk)]));
      REQUIRE(std::isnan(out[size_t(r * w + 2 * kk + 1)]));
    }
  }
}

TEST_CASE("Gumbel-top-k draws k tokens without replacement with the Plackett-Luce probabilities", "[sampling]") {
  // (1) The picks are the k largest of z + G with G = −log(−log(u + 2^−25)) of the Philox
  // uniforms, recomputed here in double; the values written are the picks' logits. (2) Over many
  // draws, the first pick follows softmax(z) and the ordered pair (first, second) follows
  // p(a)·p(b)/(1 − p(a)): sampling without replacement, in closed form.
  // The noise stays finite at both ends of the uniforms (at the top one, u + 2^−25 in f32 is 1).
  REQUIRE(std::isfinite(philox::gumbel_of(1.0f - 0x1.0p-24f)));
  REQUIRE(philox::gumbel_of(1.0f - 0x1.0p-24f) == Approx(-std::log(-std::log1p(-0x1.0p-25))).epsilon(1e-6));
  REQUIRE(philox::gumbel_of(0.0f) == Approx(-std::log(25 * std::log(2.0))).epsilon(1e-6));
  const int64_t V = 5, k = 3, rows = 4000;
  const std::vector<double> logit = {0.3, -1.0, 1.2, 0.0, -0.4};
  std::vector<float> z;
  for (int64_t r = 0; r < rows; ++r) z.insert(z.end(), logit.begin(), logit.end());
  const uint64_t seed = 77, offset = 123;
  const std::vector<float> out = gumbel_top_k(Tensor::from(z, {rows, V}), k, seed, offset).to_vector<float>();
  const int64_t w = 2 * k + 2;
  double lz = 0;
  for (double x : logit) lz += std::exp(x);
  lz = std::log(lz);
  std::vector<double> first(size_t(V), 0), pair(size_t(V * V), 0);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<std::pair<double, int>> keys;
    for (int v = 0; v < V; ++v) {
      const double u = double(random::philox_uniform(seed, offset, uint64_t(r * V + v)));
      keys.push_back({-(logit[size_t(v)] - std::log(-std::log(u + 0x1.0p-25))), v});
    }
    std::sort(keys.begin(), keys.end());
    for (int64_t j = 0; j < k; ++j) {
      const int id = int(out[size_t(r * w + k + j)]);
      if (r < 50) REQUIRE(id == keys[size_t(j)].second);  // near-ties of f32 against double: none in 50 rows
      REQUIRE(out[size_t(r * w + j)] == float(logit[size_t(id)]));
    }
    REQUIRE(out[size_t(r * w + 2 * k)] == Approx(lz).epsilon(1e-6));
    first[size_t(out[size_t(r * w + k)])] += 1.0 / rows;
    pair[size_t(out[size_t(r * w + k)] * V + out[size_t(r * w + k + 1)])] += 1.0 / rows;
  }
  for (int64_t a = 0; a < V; ++a) {
    const double pa = std::exp(logit[size_t(a)] - lz);
    INFO("token " << a);
    REQUIRE(std::fabs(first[size_t(a)] - pa) < 4 * std::sqrt(pa * (1 - pa) / rows));
    for (int64_t b = 0; b < V; ++b) {
      if (b == a) {
        REQUIRE(pair[size_t(a * V + b)] == 0);  // without replacement
        continue;
      }
      const double pab = pa * std::exp(logit[size_t(b)] - lz) / (1 - pa);
      REQUIRE(std::fabs(pair[size_t(a * V + b)] - pab) < 4 * std::sqrt(pab * (1 - pab) / rows) + 1e-3);
    }
  }
}

TEST_CASE("vexpf, the CPU's f32 exponential, is within 2 ulp of exp in double; 0, +inf and NaN at the ends") {
  double worst = 0;
  for (float x = -87.25f; x <= 88.0f; x = std::nextafter(x + 0.000731f, 100.0f)) {
    const double ref = std::exp(double(x));
    worst = std::max(worst, std::fabs(double(cpu::vexpf(x)) - ref) / ref);
  }
  CHECK(worst < 0x1p-23);  // 2⁻²³: 1 ulp at the bottom of a binade, 2 at its top
  CHECK(cpu::vexpf(0.0f) == 1.0f);
  CHECK(cpu::vexpf(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(cpu::vexpf(-100.0f) == 0.0f);
  CHECK(cpu::vexpf(100.0f) == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(cpu::vexpf(std::numeric_limits<float>::quiet_NaN())));
  // The blocked sum in double against libm's, over a vocabulary-sized row.
  std::vector<float> z(5003);
  for (size_t v = 0; v < z.size(); ++v) z[v] = -float(v % 89) * 0.37f;
  double ref = 0;
  for (float x : z) ref += std::exp(double(x));
  CHECK(cpu::sum_exp_shifted(z.data(), int64_t(z.size()), 0.0f) == Approx(ref).epsilon(3e-7));
}

// row_max against std::max over a row of odd length (the vector loop's tail), each sign, the largest
// anywhere; its `bad` flag and log_sum_exp at the ends: NaN (either sign) wins, then +∞; −∞ for
// an empty row or one of −∞ only; log_sum_exp in f32 against libm in double.
TEST_CASE("row_max and log_sum_exp: the maximum wherever it sits, and NaN, +inf, -inf and empty rows") {
  std::vector<float> z(1001);
  for (size_t v = 0; v < z.size(); ++v) z[v] = float(int(v * 7919 % 1001) - 600) * 0.01f;
  for (size_t at : {size_t(0), size_t(500), size_t(1000)}) {
    std::vector<float> x = z;
    x[at] = 4.5f;
    bool bad = true;
    CHECK(cpu::row_max(x.data(), int64_t(x.size()), bad) == *std::max_element(x.begin(), x.end()));
    CHECK_FALSE(bad);
  }
  std::vector<float> neg(13, -2.5f);
  neg[7] = -0.5f;
  bool bad = true;
  CHECK(cpu::row_max(neg.data(), 13, bad) == -0.5f);
  CHECK_FALSE(bad);
  double ref = 0;
  for (float x : z) ref += std::exp(double(x));
  CHECK(log_sum_exp(z.data(), int64_t(z.size())) == Approx(std::log(ref)).epsilon(1e-7));
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> with_nan{1, nan, inf}, with_neg_nan{1, -nan, 2}, with_inf{1, inf}, none{-inf, -inf};
  for (const auto& row : {with_nan, with_neg_nan, with_inf}) {
    bad = false;
    cpu::row_max(row.data(), int64_t(row.size()), bad);
    CHECK(bad);
  }
  CHECK(std::isnan(log_sum_exp(with_nan.data(), 3)));
  CHECK(std::isnan(log_sum_exp(with_neg_nan.data(), 3)));
  CHECK(log_sum_exp(with_inf.data(), 2) == INFINITY);
  CHECK(log_sum_exp(none.data(), 2) == -INFINITY);
  CHECK(log_sum_exp(z.data(), 0) == -INFINITY);
}
