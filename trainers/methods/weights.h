// The sample weights of the generator step: GCN's self-normalised importance weights, RML-GAN's
// sampling-importance-resampling, GAN's REINFORCE rewards. Plain functions of per-sequence numbers
// (docs/method.md has the equations), so tests check them against hand-computed cases.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace coopgen {

// The distribution the generator step moves p toward: q ∝ p·D (p_d, as the method states it),
// q ∝ p·D/(1−D) (p_d_odds: the data itself when D is optimal) or p itself (p: D unused).
enum class Target { p, p_d, p_d_odds };
constexpr std::array<const char*, 3> config_names(Target) { return {"p", "p_d", "p_d_odds"}; }

// log w(D) of a sequence from D's logit x: 0 (p), log D = −softplus(−x) (p_d), log D/(1−D) = x (p_d_odds).
double log_target_weight(double d_logit, Target target);

// log wᵢ = log q(yᵢ) − log q̂(yᵢ) up to a constant, for `target`, from D's logits xᵢ (unused for p):
// never exp() of a log-probability, so 20-token sequences (log p ≈ −150) do not underflow.
std::vector<double> log_importance_weights(const std::vector<double>& logp, const std::vector<double>& logq,
                                           const std::vector<double>& d_logits, Target target);

// wᵢ = exp(log wᵢ − max) / Σⱼ exp(log wⱼ − max): Σ w = 1. A set with no finite log-weight (every
// sample impossible under q) gets all-zero weights, so the step changes nothing instead of NaN.
std::vector<double> self_normalise(const std::vector<double>& log_w);

// (Σ w)² / Σ w²: from 1 (one sample carries all the weight) to M (uniform); 0 for all-zero weights.
double effective_sample_size(const std::vector<double>& w);

// REINFORCE for GAN: rᵢ = D(yᵢ) − β log p(yᵢ) (β: entropy bonus, since ∇H(p) = −E[log p ∇log p]),
// wᵢ = (rᵢ − b)/M with b the mean reward when `baseline`, else 0.
std::vector<double> reinforce_weights(const std::vector<double>& d, const std::vector<double>& logp, bool baseline,
                                      double entropy_bonus);

// How far one exact iteration moves p with this D: the target q ∝ p·w(D) (log_target_weight)
// against p, measured on held-out data y ~ p* (docs/method.md, "The
// target, measured"). Per token, with T the held-out tokens and N held-out sequences,
//   NLL_q − NLL_p = −(1/T) Σᵢ log w(yᵢ) + (N/T) log E_{y~p}[w(y)],
// the expectation from the logits of M fresh samples of p. On the oracle the same shift moves
// KL(p*‖·) = NLL − H(p*): KL(p*‖q) = KL(p*‖p) + shift, so −shift is the most one exact iteration
// with this D can gain (positive for D*). se: the normaliser's standard error, (N/T)·sd(w)/(√M·mean w).
// A conditional target q(y|x) ∝ p(y|x)·w(D(x, y)) has one normaliser per source: with `groups` = G,
// the held-out logits and the sample logits are each G equal consecutive blocks (source-major),
// block g of the samples (M/G draws of p(·|x_g)) normalising block g of the held-out sequences, and
//   NLL_q − NLL_p = (1/T) Σ_g [−Σ_{i∈g} log w(yᵢ) + N_g log E_{y~p(·|x_g)}[w(y)]],
// se = (1/T)·√(Σ_g (N_g·sd_g(w)/mean_g(w))²·G/M). Each log of a mean of few draws is biased low
// (Jensen), the gain high, by about sd_g²/(2·mean_g²)·G/M per source. Errors: empty input, or a
// count not divisible by `groups`.
struct TargetShift {
  double shift = 0, se = 0;
};
TargetShift target_shift(const std::vector<double>& heldout_logits, double heldout_tokens,
                         const std::vector<double>& sample_logits, Target target, size_t groups = 1);

// Sampling-importance-resampling: m indices drawn with replacement with probability wᵢ (Σ w = 1),
// from a stream that is a function of `seed` alone. All-zero weights fall back to uniform.
std::vector<size_t> resample(const std::vector<double>& w, int64_t m, uint64_t seed);

}  // namespace coopgen
