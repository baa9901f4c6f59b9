// The proposals guided by the discriminator, against closed forms computed here from their
// definitions with full forward passes (no KV cache): the guided decoder's q̂(v | y_<t) ∝
// p(v | y_<t)·D(y_<t v) and its exact log q̂, reranking with one candidate being the sampler itself,
// and the oracle's optimal discriminator D* = p*/(p* + p) and its guide.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numeric>

#include "engine/logspace.h"
#include "engine/ops.h"
#include "models/optimal_discriminator.h"
#include "tests/generator_reference.h"
#include "trainers/decoding/decoders.h"
#include "tests/testing.h"

using namespace coopgen;
using namespace coopgen::testing;

namespace {

// A discriminator whose logit is a fixed function of the prefix: varied, so every candidate differs.
std::vector<double> hashed_logits(const Sequences& seqs) {
  std::vector<double> x;
  for (const auto& s : seqs) {
    double h = 0.3;
    for (size_t t = 0; t < s.size(); ++t) h = std::fmod(h * 7.31 + double(s[t]) * 1.7 + double(t), 6.0);
    x.push_back(h - 3.0);
  }
  return x;
}

// q̂(v | prefix) of the guided decoder with K candidates (K ≥ V: every token), from the definition.
std::vector<double> guided_q(const Generator& g, const std::vector<int32_t>& prefix, int64_t K) {
  const std::vector<double> lp = next_logp(g, 0, prefix);
  std::vector<double> p(lp.size());
  for (size_t v = 0; v < p.size(); ++v) p[v] = std::exp(lp[v]);
  std::vector<int32_t> ids(p.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return p[size_t(a)] > p[size_t(b)]; });
  ids.resize(size_t(std::min<int64_t>(K, int64_t(p.size()))));
  Sequences ext;
  for (int32_t v : ids) {
    ext.push_back(prefix);
    ext.back().push_back(v);
  }
  const std::vector<double> x = hashed_logits(ext);
  double m = 0, s = 0;
  for (size_t j = 0; j < ids.size(); ++j) m += p[size_t(ids[j])], s += p[size_t(ids[j])] / (1 + std::exp(-x[j]));
  std::vector<double> q = p;
  for (size_t j = 0; j < ids.size(); ++j) q[size_t(ids[j])] = m * p[size_t(ids[j])] / (1 + std::exp(-x[j])) / s;
  return q;
}

// A guide that scores every token of the vocabulary (candidates() = 0, as D*'s does) with
// hashed_logits of each row's prefix extended by it.
class HashedGuide : public PrefixGuide {
 public:
  explicit HashedGuide(const std::vector<const std::vector<int32_t>*>& contexts) {
    for (const auto* c : contexts) prefixes_.push_back(*c);
  }
  int64_t candidates() const override { return 0; }
  std::vector<double> score(const std::vector<double>& logp, const std::vector<std::vector<int32_t>>&) override {
    const size_t V = logp.size() / prefixes_.size();
    Sequences ext;
    for (const auto& p : prefixes_)
      for (size_t v = 0; v < V; ++v) ext.push_back(p), ext.back().push_back(int32_t(v));
    return hashed_logits(ext);
  }
  void advance(const std::vector<int32_t>& tokens) override {
    for (size_t r = 0; r < tokens.size(); ++r) prefixes_[r].push_back(tokens[r]);
  }

 private:
  Sequences prefixes_;
};

}  // namespace

TEST_CASE("guided decoder: one step draws q̂ ∝ p·D on the top-K candidates, p elsewhere", "[decoding]") {
  const Generator g = tiny_generator(9, 6, 4);
  PrefixScorer whole(hashed_logits);  // a guide over the whole vocabulary (K = 0 below), formed on the host
  whole.guide = [](const std::vector<const std::vector<int32_t>*>& contexts) { return std::make_unique<HashedGuide>(contexts); };
  for (int64_t K : {3, 9, 0}) {
    INFO("K " << K);
    const std::vector<double> q = guided_q(g, {}, K == 0 ? g.vocab() : K), lp = next_logp(g, 0, {});
    const int64_t n = 30000;
    GuidedConfig cfg;
    cfg.candidates = std::max<int64_t>(K, 1);
    const SampledSet s =
        guided_sequences(g, K == 0 ? whole : PrefixScorer(hashed_logits), Prompts::unconditional(0, n), 1, cfg, 5);
    std::vector<double> freq(q.size(), 0.0);
    for (int64_t r = 0; r < n; ++r) {
      const size_t v = size_t(s.seqs[size_t(r)][0]);
      freq[v] += 1.0 / double(n);
      REQUIRE(s.logq[size_t(r)] == Approx(std::log(q[v])).margin(2e-6));
      REQUIRE(s.logp[size_t(r)] == Approx(lp[v]).margin(2e-6));
    }
    for (size_t v = 0; v < q.size(); ++v) REQUIRE(std::fabs(freq[v] - q[v]) <= 4.5 * std::sqrt(q[v] * (1 - q[v]) / double(n)) + 1e-9);
  }
}

TEST_CASE("guided decoder: log q̂ and log p of whole sequences are the sums of their steps'", "[decoding]") {
  const Generator g = tiny_generator(8, 7, 6);
  GuidedConfig cfg;
  cfg.candidates = 4;
  const SampledSet s = guided_sequences(g, PrefixScorer(hashed_logits), Prompts::unconditional(0, 12), 5, cfg, 9);
  for (size_t r = 0; r < s.seqs.size(); ++r) {
    double lq = 0, lp = 0;
    for (size_t t = 0; t < s.seqs[r].size(); ++t) {
      const std::vector<int32_t> prefix(s.seqs[r].begin(), s.seqs[r].begin() + long(t));
      lq += std::log(guided_q(g, prefix, cfg.candidates)[size_t(s.seqs[r][t])]);
      lp += next_logp(g, 0, prefix)[size_t(s.seqs[r][t])];
    }
    REQUIRE(s.logq[r] == Approx(lq).margin(1e-5));
    REQUIRE(s.logp[r] == Approx(lp).margin(1e-5));
  }
}

TEST_CASE("reranking one candidate by resampling is the sampler, with its log q̂", "[decoding]") {
  const Generator g = tiny_generator(9, 8, 2);
  SamplingConfig top_p;
  top_p.top_p = 0.8;
  RerankConfig one;
  one.candidates = 1;
  const Prompts prompts = Prompts::unconditional(0, 16);
  const SampledSet a = sample_sequences(g, prompts, 6, top_p, 13), b = rerank_sequences(g, PrefixScorer(hashed_logits), prompts, 6, top_p, one, 13);
  REQUIRE(a.seqs == b.seqs);
  for (size_t r = 0; r < a.seqs.size(); ++r) {
    REQUIRE(b.logp[r] == a.logp[r]);
    REQUIRE(b.logq[r] == Approx(a.logq[r]).margin(1e-9));  // p·D/q̂ of the output = its only weight
  }
}

TEST_CASE("reranking by argmax keeps each row's best candidate by p·D/q̂", "[decoding]") {
  const Generator g = tiny_generator(9, 8, 2);
  RerankConfig best;
  best.candidates = 5, best.mode = RerankMode::argmax;
  const Prompts prompts = Prompts::unconditional(0, 6);
  Prompts wide = prompts;
  wide.per_context *= 5;
  const SampledSet all = sample_sequences(g, wide, 4, {}, 21), kept = rerank_sequences(g, PrefixScorer(hashed_logits), prompts, 4, {}, best, 21);
  const std::vector<double> x = hashed_logits(all.seqs);
  for (size_t i = 0; i < kept.seqs.size(); ++i) {
    size_t top = i * 5;
    for (size_t j = i * 5; j < i * 5 + 5; ++j)  // q̂ = p: the weight is D alone
      if (x[j] > x[top]) top = j;
    REQUIRE(kept.seqs[i] == all.seqs[top]);
  }
}

TEST_CASE("every decoder stops, naming row and step, when the generator's logits are not finite", "[decoding]") {
  Generator g = tiny_generator(9, 8, 2);
  for (auto& [name, t] : g.params())
    if (name == "lnf.b") fill_(t, std::numeric_limits<double>::quiet_NaN());  // as a corrupt checkpoint would
  const Prompts prompts = Prompts::unconditional(0, 4);
  const PrefixScorer d(hashed_logits);
  MctsConfig mcts;
  mcts.simulations = 2;
  DasConfig das;
  REQUIRE_THROWS_WITH(sample_sequences(g, prompts, 4, {}, 1), Catch::Contains("decoding (sample)") && Catch::Contains("row 0 at token step 1"));
  SamplingConfig nucleus;
  nucleus.top_p = 0.5, nucleus.mix = 0.3;
  REQUIRE_THROWS_WITH(sample_sequences(g, prompts, 4, nucleus, 1), Catch::Contains("are not finite"));
  REQUIRE_THROWS_WITH(mcts_sequences(g, d, prompts, 4, mcts, 1), Catch::Contains("decoding (mcts)"));
  REQUIRE_THROWS_WITH(das_sequences(g, d, prompts, 4, das, 1), Catch::Contains("decoding (das)"));
  REQUIRE_THROWS_WITH(guided_sequences(g, d, prompts, 4, GuidedConfig{}, 1), Catch::Contains("decoding (guided)"));
  REQUIRE_THROWS_WITH(rerank_sequences(g, d, prompts, 4, {}, RerankConfig{}, 1), Catch::Contains("decoding (sample)"));
}

TEST_CASE("the optimal discriminator's logit is β·(log p* − log p), its guide agrees, its noise is fixed", "[models][decoding][slow]") {
  COOPGEN_SKIP_WITHOUT_ORACLE();
  const OracleLSTM oracle(testing::oracle_file());
  GeneratorConfig cfg;
  cfg.d_model = 16, cfg.layers = 1, cfg.heads = 2, cfg.max_len = 21;
  const Generator g(cfg, oracle.vocab(), 3, Device::CPU);
  const OptimalDiscriminator d(oracle, g, 0, 1.0, 0.0, 7), noisy(oracle, g, 0, 1.0, 1.5, 7),
      tempered(oracle, g, 0, 0.25, 0.0, 7);
  Sequences seqs = oracle.generate(6, 5);
  seqs.push_back({seqs[0].begin(), seqs[0].begin() + 3});  // unfinished prefixes of other lengths
  seqs.push_back({seqs[1].begin(), seqs[1].begin() + 11});
  const std::vector<double> x = d.logits(seqs), xn = noisy.logits(seqs), xt = tempered.logits(seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    // log p*(y) token by token from the oracle's incremental steps, log p(y) by full forwards.
    OracleLSTM::State st = oracle.start(1);
    double star = 0, gen = 0;
    int32_t prev = OracleLSTM::kStartToken;
    for (size_t t = 0; t < seqs[i].size(); ++t) {
      star += oracle.next(st, {prev})[size_t(seqs[i][t])];
      gen += next_logp(g, 0, {seqs[i].begin(), seqs[i].begin() + long(t)})[size_t(seqs[i][t])];
      prev = seqs[i][t];
    }
    REQUIRE(x[i] == Approx(star - gen).margin(1e-4));
    REQUIRE(xt[i] == Approx(0.25 * (star - gen)).margin(1e-4));
  }
  REQUIRE(noisy.logits(seqs) == xn);  // the same sequence always gets the same error
  // The noise over many sequences: mean 0, standard deviation σ.
  double m = 0, sq = 0;
  const int n = 4000;
  for (int k = 0; k < n; ++k) {
    const double e = noisy.noise(noisy.hash({k % 5000, k / 5000 + 1, 17}));
    m += e / n, sq += e * e / n;
  }
  REQUIRE(std::fabs(m) < 0.1);
  REQUIRE(std::sqrt(sq - m * m) == Approx(1.5).epsilon(0.05));
  // The guide scores every next token of a batch at once: equal to logits() of the extended prefixes.
  for (const OptimalDiscriminator* dd : {&d, &noisy, &tempered}) {
    auto guide = dd->guide(2);
    std::vector<std::vector<int32_t>> prefix(2);
    for (int t = 0; t < 4; ++t) {
      std::vector<double> lp;
      for (const auto& p : prefix) {
        const std::vector<double> row = next_logp(g, 0, p);
        lp.insert(lp.end(), row.begin(), row.end());
      }
      const std::vector<double> xs = guide->score(lp, {});
      Sequences ext;
      for (int32_t v : {0, 17, 4999}) ext.push_back(prefix[1]), ext.back().push_back(v);
      const std::vector<double> want = dd->logits(ext);
      REQUIRE(xs[size_t(oracle.vocab()) + 0] == Approx(want[0]).margin(1e-4));
      REQUIRE(xs[size_t(oracle.vocab()) + 17] == Approx(want[1]).margin(1e-4));
      REQUIRE(xs[size_t(oracle.vocab()) + 4999] == Approx(want[2]).margin(1e-4));
      const std::vector<int32_t> tokens{seqs[2][size_t(t)], seqs[3][size_t(t)]};
      guide->advance(tokens);
      prefix[0].push_back(tokens[0]), prefix[1].push_back(tokens[1]);
    }
  }
}
