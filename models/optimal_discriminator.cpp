#include "models/optimal_discriminator.h"

#include "core/error.h"
#include "engine/random.h"

namespace coopgen {

OptimalDiscriminator::OptimalDiscriminator(const OracleLSTM& oracle, const Generator& g, int32_t start_token,
                                           double logit_scale, double logit_noise, uint64_t seed)
    : oracle_(oracle), g_(g), start_(start_token), beta_(logit_scale), sigma_(logit_noise),
      seed_(random::mix(seed ^ 0x0d15c0f7a1ull)) {
  CG_CHECK(logit_scale > 0, "discriminator.logit_scale (", logit_scale, ") must be > 0");
  CG_CHECK(logit_noise >= 0, "discriminator.logit_noise (", logit_noise, ") must be ≥ 0");
  CG_CHECK(oracle.vocab() == g.vocab(), "optimal discriminator: the oracle's vocabulary (", oracle.vocab(),
           ") differs from the generator's (", g.vocab(), ")");
}

uint64_t OptimalDiscriminator::hash(const std::vector<int32_t>& seq) const { return random::hash(seed_, seq); }

double OptimalDiscriminator::noise(uint64_t h) const { return sigma_ > 0 ? sigma_ * random::normal(h) : 0.0; }

std::vector<double> OptimalDiscriminator::logits(const Sequences& seqs) const {
  std::vector<double> x = oracle_.log_probs(seqs);
  const std::vector<double> lp = g_.sequence_logprobs(seqs, start_);
  for (size_t i = 0; i < x.size(); ++i) x[i] = beta_ * (x[i] - lp[i]) + noise(hash(seqs[i]));
  return x;
}

namespace {

// Keeps, per row, the oracle's LSTM state and the running log p*(y_<t), log p(y_<t) and sequence
// hash, so each step costs one oracle step for the whole batch:
//   x(y_<t v) = β·(log p*(y_<t) + log p*(v | y_<t) − log p(y_<t) − log p(v | y_<t)) + σ·ε(y_<t v).
class OracleGuide : public PrefixGuide {
 public:
  OracleGuide(const OptimalDiscriminator& d, const OracleLSTM& oracle, int64_t rows, uint64_t empty_hash)
      : d_(d), oracle_(oracle), state_(oracle.start(rows)), prev_(size_t(rows), OracleLSTM::kStartToken),
        star_(size_t(rows), 0.0), gen_(size_t(rows), 0.0), hash_(size_t(rows), empty_hash) {}

  int64_t candidates() const override { return 0; }

  std::vector<double> score(const std::vector<double>& logp, const std::vector<std::vector<int32_t>>&) override {
    const size_t V = size_t(oracle_.vocab()), rows = prev_.size();
    CG_CHECK(logp.size() == rows * V, "optimal discriminator guide: ", logp.size(), " log p for ", rows, " rows");
    star_step_ = oracle_.next(state_, prev_);
    gen_step_ = logp;
    std::vector<double> x(rows * V);
    for (size_t r = 0; r < rows; ++r)
      for (size_t v = 0; v < V; ++v)
        x[r * V + v] = d_.scale() * (star_[r] + star_step_[r * V + v] - gen_[r] - logp[r * V + v]) +
                       d_.noise(random::extend(hash_[r], int32_t(v)));
    return x;
  }

  void advance(const std::vector<int32_t>& tokens) override {
    const size_t V = size_t(oracle_.vocab());
    CG_CHECK(tokens.size() == prev_.size() && star_step_.size() == prev_.size() * V,
             "optimal discriminator guide: advance without a scored step");
    for (size_t r = 0; r < tokens.size(); ++r) {
      const size_t v = size_t(tokens[r]);
      star_[r] += star_step_[r * V + v], gen_[r] += gen_step_[r * V + v];
      hash_[r] = random::extend(hash_[r], tokens[r]);
      prev_[r] = tokens[r];
    }
    star_step_.clear();
  }

 private:
  const OptimalDiscriminator& d_;
  const OracleLSTM& oracle_;
  OracleLSTM::State state_;
  std::vector<int32_t> prev_;
  std::vector<double> star_, gen_, star_step_, gen_step_;
  std::vector<uint64_t> hash_;
};

}  // namespace

std::unique_ptr<PrefixGuide> OptimalDiscriminator::guide(int64_t rows) const {
  return std::make_unique<OracleGuide>(*this, oracle_, rows, hash({}));
}

}  // namespace coopgen
