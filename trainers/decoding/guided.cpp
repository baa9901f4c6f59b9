// The guided proposal (trainers/decoding/decoding.h, GuidedConfig): per step, the generator's logits of
// every row, D's logits on the rows' prefixes extended by their candidates (the discriminator's
// own guide, a causal D's prefix cache, or whole prefixes: make_guide below), the proposal's
// logits (on the host in double for a whole-vocabulary guide; for candidates, their shifts formed
// in double from k values and added on the device), and one draw from it by the engine's sampler on
// the generator's device.
#include <cmath>
#include <limits>

#include "core/error.h"
#include "engine/logspace.h"
#include "trainers/decoding/decoders.h"
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

// One step of the proposal: lq [b, V] on the generator's device, q̂'s logits (log q̂ up to a
// per-row constant), and what turns log q̂ of the token drawn back into its log p.
struct GuidedStep {
  Tensor lq;
  std::vector<double> logp;               // whole-vocabulary guide: log p of every token, [b × V]
  std::vector<std::vector<int32_t>> cand;  // candidates' guide: each row's candidates…
  std::vector<std::vector<double>> shift;  // …and what was added to their logits
  double logp_of(size_t r, int32_t tok, double logq, int64_t V) const {
    if (!logp.empty()) return logp[r * size_t(V) + size_t(tok)];
    for (size_t j = 0; j < cand[r].size(); ++j)
      if (cand[r][j] == tok) return logq - shift[r][j];
    return logq;  // outside the candidates q̂ = p
  }
};

// A guide that scores every token (D*, whose guide takes log p of the whole vocabulary): the
// logits cross to the host and log q̂ = log p + log D − log Σ_v p·D is formed there in double.
GuidedStep whole_vocabulary_step(const Tensor& logits, PrefixGuide& guide, int64_t t) {
  const int64_t V = logits.size(-1);
  const std::vector<float> z = logits.to_vector<float>();
  check_logits(z, V, "guided", t);
  GuidedStep step;
  step.logp.resize(z.size());
  for (size_t r = 0; r < z.size() / size_t(V); ++r) {
    const double lz = log_sum_exp(z.data() + r * size_t(V), V);
    for (size_t v = 0; v < size_t(V); ++v) step.logp[r * size_t(V) + v] = double(z[r * size_t(V) + v]) - lz;
  }
  const std::vector<double> x = guide.score(step.logp, {});
  CG_CHECK(x.size() == z.size(), "guided: the guide scored ", x.size(), " tokens of ", z.size());
  std::vector<float> lq(z.size());
  for (size_t i = 0; i < z.size(); ++i) lq[i] = float(step.logp[i] + log_sigmoid(x[i]));
  step.lq = Tensor::from(lq, logits.shape(), logits.device());
  return step;
}

// A guide that scores k candidates per row: only their logits, ids and the rows' log Σ e^z cross
// to the host (filter_rows), and each candidate's logit is raised on the device (index_add_) by
//   log D(y_<t v) + log m_K − log Σ_{u∈K} p(u)·D(y_<t u),
// which gives q̂(v) = m_K · p(v)D(v) / Σ_K p·D on the candidates and leaves p elsewhere (the row's
// normaliser unchanged). Ended rows keep p. The generator's logits become q̂'s in place: the
// caller draws from them and discards them, so no b × V copy is made per token.
GuidedStep candidates_step(Tensor& logits, PrefixGuide& guide, int64_t k, const std::vector<bool>& open, int64_t t) {
  const int64_t V = logits.size(-1), b = logits.size(0), kk = std::min(k, V), width = 2 * kk + 2;
  CG_CHECK(b * V <= std::numeric_limits<int32_t>::max(), "guided: ", b, " rows × ", V, " tokens exceed i32 positions");
  const std::vector<float> rows = filter_rows(logits, kk, 1.0, "guided", t);
  GuidedStep step;
  step.cand.resize(size_t(b)), step.shift.resize(size_t(b));
  for (size_t r = 0; r < size_t(b); ++r)
    if (open[r])
      for (int64_t j = 0; j < kk; ++j) step.cand[r].push_back(int32_t(rows[r * size_t(width) + size_t(kk + j)]));
  const std::vector<double> x = guide.score({}, step.cand);
  size_t asked = 0;
  for (const auto& c : step.cand) asked += c.size();
  CG_CHECK(x.size() == asked, "guided: the guide scored ", x.size(), " candidates of ", asked);
  std::vector<int32_t> at;
  std::vector<float> add;
  size_t i = 0;
  for (size_t r = 0; r < size_t(b); ++r) {
    if (step.cand[r].empty()) continue;
    std::vector<double> z(step.cand[r].size()), log_d(z.size()), w(z.size());
    for (size_t j = 0; j < z.size(); ++j)
      z[j] = rows[r * size_t(width) + j], log_d[j] = log_sigmoid(x[i + j]), w[j] = z[j] + log_d[j];
    const double log_ratio = log_sum_exp(z) - log_sum_exp(w);  // log m_K − log Σ_K p·D (log Σ_V e^z cancels)
    for (size_t j = 0; j < z.size(); ++j) {
      step.shift[r].push_back(log_d[j] + log_ratio);
      at.push_back(int32_t(int64_t(r) * V + step.cand[r][j]));
      add.push_back(float(step.shift[r].back()));
    }
    i += z.size();
  }
  logits = logits.to(DType::F32).contiguous();  // itself: the generator's logits are f32 rows
  step.lq = logits;
  if (!at.empty()) {
    Tensor flat = step.lq.reshape({b * V, 1});
    index_add_(flat, Tensor::from(at, {int64_t(at.size())}, logits.device()),
               Tensor::from(add, {int64_t(add.size()), 1}, logits.device()));
  }
  return step;
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
      const GuidedStep step = K == 0 ? whole_vocabulary_step(logits, *guide, t) : candidates_step(logits, *guide, K, open, t);
      const Samples s = sample_logits(step.lq, SamplingConfig{}, seed, group.offset(t));
      const std::vector<int32_t> tok = s.tokens.to_vector<int32_t>();
      const std::vector<float> q = s.logq.to_vector<float>();
      for (size_t r = 0; r < b; ++r) {
        if (!open[r]) continue;
        const size_t row = group.rows[r];
        if (tok[r] < 0) fail_undefined_logits("guided", row, t);  // the sampler's mark: no distribution
        out.seqs[row].push_back(tok[r]);
        out.logp[row] += step.logp_of(r, tok[r], double(q[r]), V), out.logq[row] += double(q[r]);
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

DecoderKind decoder_guided() {
  return {"guided", "the proposal q̂ ∝ p·D token by token (decoding.guided)", true,
          [](const DecodeCall& c) { return guided_sequences(c.g, c.d, c.prompts, c.length, c.dec.guided, c.seed, c.eos); },
          [](const DecodingConfig& dec) {
            if (dec.weights == DecodeWeights::uniform)
              fail("decoding.decoder guided draws from q̂ ∝ p·D token by token, not from q: set decoding.weights importance");
          }};
}

}  // namespace coopgen
