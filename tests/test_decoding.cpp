// The cooperative decoders against what they must reduce to: MCTS with a discriminator that says
// nothing follows the generator's prior; with one that rewards a token it finds the token; beam
// search with λ = 0 is plain beam search (a reference that recomputes every prefix, and exhaustive
// search when the beam is wide enough to be exact).
#include <catch2/catch.hpp>

#include <cmath>
#include <algorithm>
#include <map>
#include <numeric>

#include "engine/ops.h"
#include "tests/generator_reference.h"
#include "trainers/decoding/decoders.h"

using namespace coopgen;
using namespace coopgen::testing;

namespace {

double sequence_logp(const Generator& g, int32_t start, const std::vector<int32_t>& seq) {
  double lp = 0;
  for (size_t t = 0; t < seq.size(); ++t) lp += next_logp(g, start, {seq.begin(), seq.begin() + long(t)})[size_t(seq[t])];
  return lp;
}

PrefixScorer constant_d(double logit) {
  return [logit](const Sequences& s) { return std::vector<double>(s.size(), logit); };
}

PrefixScorer rewards_token(int32_t x) {  // D ≈ 1 on prefixes holding x, ≈ 0 elsewhere
  return [x](const Sequences& seqs) {
    std::vector<double> out;
    for (const auto& s : seqs) out.push_back(std::find(s.begin(), s.end(), x) != s.end() ? 6.0 : -6.0);
    return out;
  };
}

}  // namespace

TEST_CASE("lookahead and cache row gathers give the logits of full recomputation", "[decoding]") {
  NoGradGuard no_grad;
  const Generator g = tiny_generator(11, 9, 3);
  const std::vector<std::vector<int32_t>> rows{{1, 4, 7}, {2, 9, 0}, {3, 5, 5}};
  Generator::Cache cache = g.new_cache(3);
  for (size_t t = 0; t < 3; ++t) g.step(Tensor::from(std::vector<int32_t>{rows[0][t], rows[1][t], rows[2][t]}, {3}), cache);
  // Paths of different depths below the cached prefixes, in one call; the cache keeps its length.
  const std::vector<int32_t> paths{6, 2, 8, 1, 0, 0, 10, 3, 4};  // [3, 3]; rows use 3, 1 and 2 positions
  const std::vector<float> look = g.lookahead(Tensor::from(paths, {3, 3}), {2, 0, 1}, cache).to_vector<float>();
  REQUIRE(cache.len == 3);
  const std::vector<std::vector<int32_t>> extended{{4, 7, 6, 2, 8}, {9, 0, 1}, {5, 5, 10, 3}};
  for (size_t r = 0; r < 3; ++r) {
    const std::vector<double> want = next_logp(g, rows[r][0], extended[r]);
    double m = -1e300, z = 0;
    for (int64_t v = 0; v < 11; ++v) m = std::max(m, double(look[r * 11 + size_t(v)]));
    for (int64_t v = 0; v < 11; ++v) z += std::exp(double(look[r * 11 + size_t(v)]) - m);
    for (int64_t v = 0; v < 11; ++v) REQUIRE(double(look[r * 11 + size_t(v)]) - m - std::log(z) == Approx(want[size_t(v)]).margin(1e-5));
  }
  // Rows reordered (with a repeat), then one more step: each row continues its new prefix.
  g.gather_cache_rows(cache, {2, 0, 0});
  const std::vector<float> next = g.step(Tensor::from(std::vector<int32_t>{3, 6, 9}, {3}), cache).to_vector<float>();
  const std::vector<std::vector<int32_t>> moved{{3, 5, 5, 3}, {1, 4, 7, 6}, {1, 4, 7, 9}};
  for (size_t r = 0; r < 3; ++r) {
    const std::vector<int32_t> full(moved[r].begin(), moved[r].end());
    const std::vector<float> ref = g.forward(Tensor::from(full, {1, 4})).to_vector<float>();
    for (size_t v = 0; v < 11; ++v) REQUIRE(next[r * 11 + v] == Approx(ref[3 * 11 + v]).margin(1e-5));
  }
}

TEST_CASE("a causal D's prefix cache gives the logits of scoring whole prefixes", "[decoding]") {
  // DiscriminatorPrefixCache against TransformerDiscriminator::forward on the full sequences (mean pooling
  // of the whole prefix, recomputed from scratch): contexts of 2 tokens, one committed step, then
  // paths of 1–3 tokens in one call, twice (scoring commits nothing); through the PrefixCache the
  // search uses, only the rows asked for; and one-token continuations, several per row (score_next).
  NoGradGuard no_grad;
  DiscriminatorConfig cfg;
  cfg.d_model = 16, cfg.layers = 2, cfg.heads = 2, cfg.max_len = 12, cfg.init_std = 0.5;  // logits of order 1
  const TransformerDiscriminator d(cfg, 11, 5, Device::CPU, /*causal=*/true);
  const std::vector<std::vector<int32_t>> contexts{{1, 4}, {2, 9}, {3, 5}};
  const std::vector<const std::vector<int32_t>*> ctx{&contexts[0], &contexts[1], &contexts[2]};
  const PrefixScorer scorer = learned_scorer(d, 0, Device::CPU);
  REQUIRE(scorer.cached);
  const std::unique_ptr<PrefixCache> cache = scorer.cached(ctx);
  cache->commit({7, 0, 5});
  const std::vector<std::vector<int32_t>> paths{{6, 2, 8}, {1}, {10, 3}};
  const Sequences full{{1, 4, 7, 6, 2, 8}, {2, 9, 0, 1}, {3, 5, 5, 10, 3}};
  const std::vector<double> want = discriminator_logits(d, full, 0, Device::CPU);
  for (int pass = 0; pass < 2; ++pass) {
    const std::vector<double> got = cache->score(paths, {0, 1, 2});
    for (size_t r = 0; r < 3; ++r) REQUIRE(got[r] == Approx(want[r]).margin(1e-5));
  }
  const std::vector<double> some = cache->score(paths, {2, 0});
  REQUIRE(some.size() == 2);
  REQUIRE(some[0] == Approx(want[2]).margin(1e-5));
  REQUIRE(some[1] == Approx(want[0]).margin(1e-5));
  // One-token continuations, several per row (row 1 none, row 2 more than row 0).
  const std::vector<std::vector<int32_t>> cand{{6, 3}, {}, {10, 0, 7}};
  const Sequences next{{1, 4, 7, 6}, {1, 4, 7, 3}, {3, 5, 5, 10}, {3, 5, 5, 0}, {3, 5, 5, 7}};
  const std::vector<double> want_next = discriminator_logits(d, next, 0, Device::CPU), got_next = cache->score_next(cand);
  REQUIRE(got_next.size() == 5);
  for (size_t i = 0; i < 5; ++i) REQUIRE(got_next[i] == Approx(want_next[i]).margin(1e-5));
  REQUIRE(cache->score(paths, {0, 1, 2})[1] == Approx(want[1]).margin(1e-5));  // nothing committed
  // A bidirectional D has no cache: its h_t change with every token appended.
  const TransformerDiscriminator bi(cfg, 11, 5, Device::CPU, /*causal=*/false);
  REQUIRE_FALSE(learned_scorer(bi, 0, Device::CPU).cached);
  REQUIRE_THROWS_WITH(DiscriminatorPrefixCache(bi, 3), Catch::Contains("bidirectional"));
}

TEST_CASE("MCTS and the guided proposal with a causal D decode the same with and without its prefix cache", "[decoding]") {
  NoGradGuard no_grad;
  const Generator g = tiny_generator(11, 9, 3);
  DiscriminatorConfig cfg;
  cfg.d_model = 16, cfg.layers = 1, cfg.heads = 2, cfg.max_len = 12, cfg.init_std = 0.5;
  const TransformerDiscriminator d(cfg, 11, 8, Device::CPU, /*causal=*/true);
  const PrefixScorer cached = learned_scorer(d, 0, Device::CPU);
  const PrefixScorer whole = cached.logits;  // the same logits, no cache: every prefix scored afresh
  MctsConfig mcts;
  mcts.simulations = 12, mcts.visit_temperature = 1.0;
  GuidedConfig guided;
  guided.candidates = 4;
  const Prompts prompts{0, {{}, {2, 5}, {7, 1}}, 3};  // contexts committed to the cache first
  for (int decoder = 0; decoder < 2; ++decoder) {
    auto run = [&](const PrefixScorer& scorer) {
      return decoder == 0 ? mcts_sequences(g, scorer, prompts, 5, mcts, 3)
                          : guided_sequences(g, scorer, prompts, 6, guided, 3, /*eos=*/4);
    };
    const SampledSet a = run(cached), b = run(whole);
    INFO((decoder == 0 ? "mcts" : "guided"));
    REQUIRE(a.seqs == b.seqs);
    for (size_t r = 0; r < a.seqs.size(); ++r) REQUIRE(a.logq[r] == Approx(b.logq[r]).margin(1e-9));
  }
}

// π(· | start) in probabilities, and MCTS over every token that emits by sampling the visits.
std::vector<double> first_token_prior(const Generator& g) {
  std::vector<double> prior = next_logp(g, 0, {});
  for (double& p : prior) p = std::exp(p);
  return prior;
}
// Total variation between the first tokens of `s` and `prior`.
double first_token_tv(const SampledSet& s, const std::vector<double>& prior) {
  std::vector<double> freq(prior.size(), 0.0);
  for (const auto& q : s.seqs) freq[size_t(q[0])] += 1.0 / double(s.seqs.size());
  double tv = 0;
  for (size_t v = 0; v < prior.size(); ++v) tv += 0.5 * std::abs(freq[v] - prior[v]);
  return tv;
}
MctsConfig sampling_full_width() {
  MctsConfig cfg;
  cfg.top_k = 0;
  cfg.visit_temperature = 1.0;
  return cfg;
}

TEST_CASE("MCTS with a constant D follows the prior's visit distribution", "[decoding]") {
  const int64_t V = 7;
  const Generator g = tiny_generator(V, 6, 11);
  const std::vector<double> prior = first_token_prior(g);
  MctsConfig cfg = sampling_full_width();
  cfg.c_puct = 1.0;
  SECTION("visit counts after S simulations are within (V+1)/S of S·π") {
    cfg.simulations = 400;
    const SampledSet s = mcts_sequences(g, constant_d(0.3), Prompts::unconditional(0, 20), 1, cfg, 5);
    for (size_t r = 0; r < s.seqs.size(); ++r) {
      REQUIRE(s.seqs[r].size() == 1);
      REQUIRE(std::exp(s.logq[r]) == Approx(prior[size_t(s.seqs[r][0])]).margin(double(V + 1) / 400.0));
      REQUIRE(s.logp[r] == Approx(std::log(prior[size_t(s.seqs[r][0])])).margin(1e-5));
    }
  }
  SECTION("tokens drawn from the visits are distributed as the prior (total variation)") {
    cfg.simulations = 200;
    const int64_t n = 4000;
    const SampledSet s = mcts_sequences(g, constant_d(-1.0), Prompts::unconditional(0, n), 1, cfg, 9);
    // Sampling noise ≈ 0.015 at n = 4000, the visit counts' rounding ≤ V/(2S) ≈ 0.018.
    REQUIRE(first_token_tv(s, prior) < 0.05);
  }
}

TEST_CASE("MCTS emission mixed with the prior: q̂ = (1 − ε)·visits + ε·π", "[decoding]") {
  const int64_t V = 7;
  const Generator g = tiny_generator(V, 6, 11);
  const std::vector<double> prior = first_token_prior(g);
  MctsConfig cfg = sampling_full_width();
  cfg.simulations = 30;
  cfg.prior_mix = 1.0;  // the visits (all on token 3, which D rewards) no longer matter
  const int64_t n = 4000;
  const SampledSet s = mcts_sequences(g, rewards_token(3), Prompts::unconditional(0, n), 1, cfg, 9);
  for (size_t r = 0; r < s.seqs.size(); ++r) {
    REQUIRE(s.logq[r] == Approx(std::log(prior[size_t(s.seqs[r][0])])).margin(1e-5));
  }
  REQUIRE(first_token_tv(s, prior) < 0.04);
  // Longer sequences: a token drawn from the prior's share may be one the search never expanded,
  // and the next search starts from it; log p is still the sequence's.
  const SampledSet longer = mcts_sequences(g, rewards_token(3), Prompts::unconditional(0, 20), 4, cfg, 5);
  for (size_t r = 0; r < longer.seqs.size(); ++r) {
    REQUIRE(longer.seqs[r].size() == 4);
    REQUIRE(longer.logp[r] == Approx(sequence_logp(g, 0, longer.seqs[r])).margin(1e-4));
  }
  // Half the mass from the visits: with a small c_puct the search puts most of them (≥ 80%) on the
  // rewarded token, so q̂(3) ≥ 0.4 and token 3 is emitted at least that often.
  cfg.prior_mix = 0.5;
  cfg.c_puct = 0.5;
  const SampledSet half = mcts_sequences(g, rewards_token(3), Prompts::unconditional(0, 200), 1, cfg, 9);
  int threes = 0;
  for (size_t r = 0; r < half.seqs.size(); ++r)
    if (half.seqs[r][0] == 3) {
      ++threes;
      REQUIRE(std::exp(half.logq[r]) >= 0.4);
    }
  REQUIRE(threes >= 80);
}

TEST_CASE("MCTS with a D that rewards one token finds it; log p is the sequence's", "[decoding]") {
  const int64_t V = 7, L = 4;
  const Generator g = tiny_generator(V, 6, 23);
  SamplingConfig greedy;
  greedy.temperature = 0;
  const std::vector<int32_t> greedy_seq = sample_sequences(g, Prompts::unconditional(0, 1), L, greedy, 1).seqs[0];
  const std::vector<double> prior = next_logp(g, 0, {});
  int32_t x = -1;  // the least likely first token that greedy decoding never emits
  for (int32_t v = 0; v < int32_t(V); ++v)
    if (std::find(greedy_seq.begin(), greedy_seq.end(), v) == greedy_seq.end() && (x < 0 || prior[size_t(v)] < prior[size_t(x)])) x = v;
  REQUIRE(x >= 0);
  for (MctsBackup backup : {MctsBackup::mean, MctsBackup::max}) {
    INFO(name_of(backup));
    MctsConfig cfg;
    cfg.top_k = 0;
    cfg.c_puct = 1.0;
    cfg.simulations = 60;
    cfg.backup = backup;
    const SampledSet s = mcts_sequences(g, rewards_token(x), Prompts::unconditional(0, 3), L, cfg, 2);
    for (size_t r = 0; r < s.seqs.size(); ++r) {
      REQUIRE(s.seqs[r].size() == size_t(L));
      REQUIRE(std::find(s.seqs[r].begin(), s.seqs[r].end(), x) != s.seqs[r].end());
      REQUIRE(s.logp[r] == Approx(sequence_logp(g, 0, s.seqs[r])).margin(1e-4));
      REQUIRE(s.logq[r] == 0.0);  // the most visited child: deterministic
    }
  }
}

TEST_CASE("MCTS stops a sequence at <eos> and sums log p up to it", "[decoding]") {
  const Generator g = tiny_generator(5, 8, 31);
  MctsConfig cfg;
  cfg.top_k = 3;
  cfg.simulations = 8;
  cfg.visit_temperature = 1.0;
  const SampledSet s = mcts_sequences(g, constant_d(0.0), Prompts::unconditional(0, 40), 7, cfg, 4, /*eos=*/1);
  bool some_ended = false;
  for (size_t r = 0; r < s.seqs.size(); ++r) {
    const auto& q = s.seqs[r];
    REQUIRE(!q.empty());
    REQUIRE(q.size() <= 7);
    for (size_t t = 0; t + 1 < q.size(); ++t) REQUIRE(q[t] != 1);
    some_ended |= q.back() == 1;
    REQUIRE(s.logp[r] == Approx(sequence_logp(g, 0, q)).margin(1e-4));
    REQUIRE(s.logq[r] <= 0.0);
  }
  REQUIRE(some_ended);
}

namespace {

// Plain beam search by recomputing every prefix (no cache, no row gathers): beams ranked by
// Σ log p, each open beam proposing its `c` most likely tokens, finished beams carried over.
std::pair<std::vector<int32_t>, double> reference_beam_search(const Generator& g, int64_t length, int64_t k, int64_t c, int32_t eos,
                                                              const std::vector<int32_t>& context = {}) {
  struct Hyp {
    std::vector<int32_t> seq;
    double logp;
    bool done;
  };
  std::vector<Hyp> beams{{{}, 0.0, false}};
  for (int64_t t = 0; t < length; ++t) {
    std::vector<Hyp> cands;
    for (const Hyp& h : beams) {
      if (h.done) {
        cands.push_back(h);
        continue;
      }
      std::vector<int32_t> prefix = context;
      prefix.insert(prefix.end(), h.seq.begin(), h.seq.end());
      const std::vector<double> lp = next_logp(g, 0, prefix);
      std::vector<int32_t> order(lp.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return lp[size_t(a)] > lp[size_t(b)]; });
      for (int64_t j = 0; j < std::min<int64_t>(c, int64_t(lp.size())); ++j) {
        Hyp n = h;
        n.seq.push_back(order[size_t(j)]);
        n.logp += lp[size_t(order[size_t(j)])];
        n.done = order[size_t(j)] == eos || int64_t(n.seq.size()) == length;
        cands.push_back(n);
      }
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Hyp& a, const Hyp& b) { return a.logp > b.logp; });
    if (int64_t(cands.size()) > k) cands.resize(size_t(k));
    beams = cands;
  }
  return {beams[0].seq, beams[0].logp};
}

}  // namespace

TEST_CASE("beam search guided by D with λ = 0 is plain beam search", "[decoding]") {
  SECTION("against a reference that recomputes every prefix, with <eos>") {
    const Generator g = tiny_generator(9, 8, 41);
    for (auto [k, c] : {std::pair<int64_t, int64_t>{3, 3}, {2, 5}, {4, 2}}) {
      DasConfig cfg;
      cfg.beams = k, cfg.candidates = c, cfg.lambda = 0;
      const SampledSet s = das_sequences(g, rewards_token(4), Prompts::unconditional(0, 2), 6, cfg, 1, /*eos=*/2);
      const auto [seq, logp] = reference_beam_search(g, 6, k, c, 2);
      for (size_t r = 0; r < 2; ++r) {
        REQUIRE(s.seqs[r] == seq);
        REQUIRE(s.logp[r] == Approx(logp).margin(1e-4));
      }
    }
  }
  SECTION("a beam as wide as the search space finds the most likely sequence (exhaustive search)") {
    const int64_t V = 4, L = 3;
    const Generator g = tiny_generator(V, 5, 43);
    double best = -1e300;
    std::vector<int32_t> argmax;
    for (int32_t a = 0; a < V; ++a)
      for (int32_t b = 0; b < V; ++b)
        for (int32_t c = 0; c < V; ++c)
          if (const double lp = sequence_logp(g, 0, {a, b, c}); lp > best) best = lp, argmax = {a, b, c};
    DasConfig cfg;
    cfg.beams = V * V, cfg.candidates = V, cfg.lambda = 0;
    const SampledSet s = das_sequences(g, constant_d(0), Prompts::unconditional(0, 1), L, cfg, 1);
    REQUIRE(s.seqs[0] == argmax);
    REQUIRE(s.logp[0] == Approx(best).margin(1e-4));
  }
}

TEST_CASE("beam search guided by D: λ log D steers the beams; sampled candidates differ per row", "[decoding]") {
  const int64_t V = 8, L = 4;
  const Generator g = tiny_generator(V, 6, 47);
  DasConfig cfg;
  cfg.beams = 2, cfg.candidates = V, cfg.lambda = 0;
  const std::vector<int32_t> plain = das_sequences(g, constant_d(0), Prompts::unconditional(0, 1), L, cfg, 1).seqs[0];
  int32_t x = 0;
  while (std::find(plain.begin(), plain.end(), x) != plain.end()) ++x;
  cfg.lambda = 5.0;
  const SampledSet guided = das_sequences(g, rewards_token(x), Prompts::unconditional(0, 1), L, cfg, 1);
  REQUIRE(std::find(guided.seqs[0].begin(), guided.seqs[0].end(), x) != guided.seqs[0].end());
  REQUIRE(guided.logp[0] == Approx(sequence_logp(g, 0, guided.seqs[0])).margin(1e-4));

  cfg.sample = true;
  cfg.candidates = 2;
  const SampledSet s = das_sequences(g, rewards_token(x), Prompts::unconditional(0, 16), L, cfg, 8);
  std::map<std::vector<int32_t>, int> distinct;
  for (const auto& q : s.seqs) distinct[q]++;
  REQUIRE(distinct.size() > 1);
}

TEST_CASE("decoders continue contexts of different lengths; D sees context + continuation", "[decoding]") {
  const int64_t V = 9, L = 4;
  const Generator g = tiny_generator(V, 9, 53);
  Prompts prompts{0, {{3, 1, 4}, {1, 5}, {0, 2, 6, 5, 3}, {5}}, 3};
  auto room = [&](size_t row) { return std::min<int64_t>(L, 9 - 1 - int64_t(prompts.contexts[row / 3].size())); };  // the third: 3
  auto with_context = [&](size_t row, const std::vector<int32_t>& seq) {
    std::vector<int32_t> all = prompts.contexts[row / 3];
    all.insert(all.end(), seq.begin(), seq.end());
    return all;
  };
  // Every sequence D is asked about starts with one of the contexts.
  const PrefixScorer checked_d = [&](const Sequences& seqs) {
    for (const auto& q : seqs) {
      bool starts = false;
      for (const auto& c : prompts.contexts) starts |= q.size() > c.size() && std::equal(c.begin(), c.end(), q.begin());
      REQUIRE(starts);
    }
    return std::vector<double>(seqs.size(), 0.0);
  };
  SECTION("greedy sampling is the argmax continuation of each context, rows context-major") {
    SamplingConfig greedy;
    greedy.temperature = 0;
    const SampledSet s = sample_sequences(g, prompts, L, greedy, 1, /*eos=*/-1, /*batch=*/5);
    REQUIRE(s.seqs.size() == 12);
    for (size_t row = 0; row < 12; ++row) {
      std::vector<int32_t> want;
      for (int64_t t = 0; t < room(row); ++t) {
        const std::vector<double> lp = next_logp(g, 0, with_context(row, want));
        want.push_back(int32_t(std::max_element(lp.begin(), lp.end()) - lp.begin()));
      }
      REQUIRE(s.seqs[row] == want);
      REQUIRE(s.logp[row] == Approx(sequence_logp(g, 0, with_context(row, want)) - sequence_logp(g, 0, prompts.contexts[row / 3])).margin(1e-4));
    }
  }
  SECTION("MCTS: log p is the continuation's given its context") {
    MctsConfig cfg;
    cfg.top_k = 4;
    cfg.simulations = 6;
    cfg.visit_temperature = 1.0;
    const SampledSet s = mcts_sequences(g, checked_d, prompts, L, cfg, 3, /*eos=*/-1, /*batch=*/4);
    for (size_t row = 0; row < 12; ++row) {
      REQUIRE(int64_t(s.seqs[row].size()) == room(row));
      REQUIRE(s.logp[row] == Approx(sequence_logp(g, 0, with_context(row, s.seqs[row])) - sequence_logp(g, 0, prompts.contexts[row / 3])).margin(1e-4));
    }
  }
  SECTION("DAS with λ = 0 is plain beam search after each context") {
    DasConfig cfg;
    cfg.beams = 3, cfg.candidates = 3, cfg.lambda = 0;
    const SampledSet s = das_sequences(g, checked_d, prompts, L, cfg, 1, /*eos=*/2, /*batch=*/5);
    for (size_t row = 0; row < 12; ++row) {
      const auto [seq, logp] = reference_beam_search(g, room(row), 3, 3, 2, prompts.contexts[row / 3]);
      REQUIRE(s.seqs[row] == seq);
      REQUIRE(s.logp[row] == Approx(logp).margin(1e-4));
    }
    cfg.lambda = 1.0;
    das_sequences(g, checked_d, prompts, L, cfg, 1, 2, 5);
  }
  SECTION("a context that leaves no room is an error naming max_len") {
    Prompts too_long{0, {std::vector<int32_t>(8, 1)}, 1};
    REQUIRE_THROWS_WITH(sample_sequences(g, too_long, L, SamplingConfig{}, 1), Catch::Contains("model.max_len = 9"));
  }
}
