// The optimal discriminator of the synthetic oracle task, computed exactly (discriminator.kind
// optimal): where the data distribution p* is known, D*(y) = p*(y) / (p*(y) + p(y)) (Goodfellow et
// al. 2014), whose logit is
//     x*(y) = log p*(y) − log p(y),
// from the oracle LSTM and the current generator, both exact autoregressive log-probabilities.
// An unfinished prefix is scored by the same formula on prefix probabilities (p*(y_≤t) and
// p(y_≤t) are exact for both models), so the tree searches and the guided proposal can use it.
// With logit noise σ > 0 the logit is x*(y) + σ·ε(y), ε(y) ~ N(0, 1) a fixed function of the run
// seed and the token sequence: the same sequence always gets the same error, as a trained D's
// errors persist, and σ dials D's quality from perfect (0) to useless (σ ≫ the spread of x*).
// A logit scale β ≠ 1 tempers D*: the logit is β·x*(y) (+ σ·ε(y)). Where p*/p ≪ 1, as for
// most samples of a trained generator (log p*/p ≈ −48 ± 11 nats on the oracle's MLE start),
// σ(β·x*) ≈ (p*/p)^β, so GCN's target p·D there is the geometric bridge p^(1−β)·p*^β between p
// (β = 0) and p* (β = 1), whose importance weights spread β times less in log; where p*/p ≳ 1
// D saturates and p·D ≈ p, as without tempering.
#pragma once
#include <cstdint>
#include <memory>

#include "models/discriminator.h"
#include "models/generator.h"
#include "models/oracle.h"

namespace coopgen {

class OptimalDiscriminator {
 public:
  // Refers to both models (they must outlive it); `start_token` is the generator's first input.
  OptimalDiscriminator(const OracleLSTM& oracle, const Generator& g, int32_t start_token, double logit_scale,
                       double logit_noise, uint64_t seed);
  // x(y) of each sequence or prefix (1 … 20 tokens).
  std::vector<double> logits(const Sequences& seqs) const;
  // The exact guide (candidates() = 0): one oracle step scores all V next tokens of every row.
  std::unique_ptr<PrefixGuide> guide(int64_t rows) const;
  double scale() const { return beta_; }
  double noise_sd() const { return sigma_; }  // σ
  // The noise term σ·ε(y) of the sequence whose hash (engine/random.h) is h.
  double noise(uint64_t h) const;
  uint64_t hash(const std::vector<int32_t>& seq) const;

 private:
  const OracleLSTM& oracle_;
  const Generator& g_;
  int32_t start_;
  double beta_, sigma_;
  uint64_t seed_;
};

}  // namespace coopgen
