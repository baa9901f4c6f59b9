// The guided proposal (trainers/decoding/decoding.h, GuidedConfig): per step, the generator's logits of
// every row, D's logits on the rows' prefixes extended by their candidates (the discriminator's
// own guide, a causal D's prefix cache, or whole prefixes: make_guide below), the proposal's log q̂ over the vocabulary in double, and one
// draw from it by the engine's sampler on the generator's device.
#include <cmath>

#include "core/error.h"
#include "engine/logspace.h"
#include "trainers/decoding/guided.h"

namespace coopgen {

namespace {

// A guide from any scorer of whole prefixes: each step scores every row's prefix extended by each
// of its candidates in one call (rows × k sequences).
class ScorerGuide : public PrefixGuide {
 public:
  ScorerGuide(PrefixScorer::Logits logits, int64_t k, const std::vector<const std::vector<int32_t>*>& contexts)
      : logits_(std::move(logits)), k_(k) {
    for (const auto* c : contexts) prefixes_.push_back(*c);
  }
  int64_t candidates() const override { return k_; }
  std::vector<double> score(const std::vector<double>&, const std::vector<std::vector<int32_t>>& cand) override {
    Sequences seqs;
    for (size_t r = 0; r < cand.size(); ++r)
      for (int32_t v : cand[r]) {
        seqs.push_back(prefixes_[r]);
        seqs.back().push_back(v);
      }
    return seqs.empty() ? std::vector<double>{} : logits_(seqs);
  }
  void advance(const std::vector<int32_t>& tokens) override {
    for (size_t r = 0; r < tokens.size(); ++r) prefixes_[r].push_back(tokens[r]);
  }

 private:
  PrefixScorer::Logits logits_;
  int64_t k_;
  Sequences prefixes_;
};

// A guide from a causal D's prefix cache: every row's candidates scored as one-token
// continuations of its cached prefix in one pass, the drawn tokens committed, so no prefix is read
// twice: k token positions per row and step instead of ScorerGuide's k·t.
class CachedGuide : public PrefixGuide {
 public:
  CachedGuide(std::unique_ptr<PrefixCache> cache, int64_t k) : cache_(std::move(cache)), k_(k) {}
  int64_t candidates() const override { return k_; }
  std::vector<double> score(const std::vector<double>&, const std::vector<std::vector<int32_t>>& cand) override {
    return cache_->score_next(cand);
  }
  void advance(const std::vector<int32_t>& tokens) override { cache_->commit(tokens); }

 private:
  std::unique_ptr<PrefixCache> cache_;
  int64_t k_;
};

// The discriminator's own guide if it has one (D*), else its prefix cache, else whole prefixes.
std::unique_ptr<PrefixGuide> make_guide(const PrefixScorer& d, int64_t k,
                                        const std::vector<const std::vector<int32_t>*>& contexts) {
  if (d.guide) return d.guide(contexts);
  if (d.cached) return std::make_unique<CachedGuide>(d.cached(contexts), k);
  return std::make_unique<ScorerGuide>(d.logits, k, contexts);
}

}  // namespace

SampledSet guided_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                            const GuidedConfig& cfg, uint64_t seed, int32_t eos, int64_t batch) {
  CG_CHECK(d.logits || d.guide, "decoder guided: no discriminator to guide the proposal");
  CG_CHECK(cfg.candidates >= 1, "decoding.guided.candidates (", cfg.candidates, ") must be at least 1");
  NoGradGuard no_grad;
  const int64_t V = g.vocab();
  const size_t n = size_t(prompts.rows());
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (const RowGroup& group : group_rows(prompts, length, g.config().max_len, batch)) {
    const size_t b = group.rows.size();
    Generator::Cache cache = g.new_cache(int64_t(b));
    Tensor logits = prefill(g, group, prompts.start_token, cache);
    const std::unique_ptr<PrefixGuide> guide = make_guide(d, cfg.candidates, group.contexts);
    const int64_t K = guide->candidates();
    std::vector<bool> open(b, true);
    size_t n_open = b;
    for (int64_t t = 0; t < group.length && n_open > 0; ++t) {
      const std::vector<float> z = logits.to_vector<float>();
      check_logits(z, V, "guided", t);
      std::vector<double> logp(z.size());
      for (size_t r = 0; r < b; ++r) {
        const double lz = log_sum_exp(z.data() + r * size_t(V), V);
        for (int64_t v = 0; v < V; ++v) logp[r * size_t(V) + size_t(v)] = double(z[r * size_t(V) + size_t(v)]) - lz;
      }
      std::vector<std::vector<int32_t>> cand(K > 0 ? b : 0);
      for (size_t r = 0; r < cand.size(); ++r)
        if (open[r]) cand[r] = top_tokens(z.data() + r * size_t(V), V, K);
      const std::vector<double> x = guide->score(logp, cand);
      // log q̂ over the vocabulary; an ended row keeps p (never drawn from again).
      std::vector<float> lq(logp.begin(), logp.end());
      size_t at = 0;
      for (size_t r = 0; r < b; ++r) {
        double* lp = logp.data() + r * size_t(V);
        float* row = lq.data() + r * size_t(V);
        if (K == 0) {
          std::vector<double> w(static_cast<size_t>(V));
          for (int64_t v = 0; v < V; ++v) w[size_t(v)] = lp[v] + log_sigmoid(x[r * size_t(V) + size_t(v)]);
          const double lz = log_sum_exp(w);
          for (int64_t v = 0; v < V; ++v) row[v] = float(w[size_t(v)] - lz);
        } else if (!cand[r].empty()) {
          std::vector<double> w, p_k;
          for (int32_t v : cand[r]) w.push_back(lp[v] + log_sigmoid(x[at++])), p_k.push_back(lp[v]);
          const double shift = log_sum_exp(p_k) - log_sum_exp(w);  // log m_K − log Σ_K p·D
          for (size_t j = 0; j < w.size(); ++j) row[cand[r][j]] = float(w[j] + shift);
        }
      }
      const Samples s = sample_logits(Tensor::from(lq, {int64_t(b), V}, g.device()), SamplingConfig{}, seed, group.offset(t));
      const std::vector<int32_t> tok = s.tokens.to_vector<int32_t>();
      const std::vector<float> q = s.logq.to_vector<float>();
      for (size_t r = 0; r < b; ++r) {
        if (!open[r]) continue;
        const size_t row = group.rows[r];
        out.seqs[row].push_back(tok[r]);
        out.logp[row] += logp[r * size_t(V) + size_t(tok[r])], out.logq[row] += double(q[r]);
        if (tok[r] == eos) open[r] = false, --n_open;
      }
      if (t + 1 < group.length && n_open > 0) {  // nothing is drawn after the last step: no commit either
        guide->advance(tok);
        logits = g.step(s.tokens, cache);
      }
    }
  }
  return out;
}

}  // namespace coopgen
