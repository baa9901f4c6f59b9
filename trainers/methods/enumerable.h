// The method where everything can be enumerated (docs/method.md, "The convergence claim, exactly"):
// sequences of `length` tokens over `vocab` (at most a few hundred sequences), a fixed random
// data distribution p*, and a generator p_θ = softmax(θ) with one parameter per sequence, which
// can represent any distribution. The optimal discriminator is exact, D* = p*/(p* + p), and each
// update of the method can be taken with exact expectations, with a fixed number of gradient
// steps, or from M sampled sequences with trainers/methods/weights.h's self-normalised weights, so the
// update rule is tested apart from the discriminator and the model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "trainers/methods/weights.h"

namespace coopgen::enumerable {

struct Problem {
  int64_t vocab = 3, length = 3;
  std::vector<double> p_star;  // the data distribution over the vocab^length sequences
  std::vector<double> theta;   // the generator's start: p_0 = softmax(θ)
};

// p* = softmax(spread · N(0, 1) per sequence), θ = 0.5·spread · N(0, 1): both random, seeded.
Problem random_problem(int64_t vocab, int64_t length, uint64_t seed, double spread = 2.0);

std::vector<double> softmax(const std::vector<double>& theta);
// KL(a‖b) = Σ a log(a/b), nats (terms with a = 0 are 0).
double kl(const std::vector<double>& a, const std::vector<double>& b);
// The method's target from p and the optimal D*: q ∝ p·D* ("p_d": GCN, RML-GAN) or q ∝ p·D*/(1−D*)
// ("p_d_odds", which is p* itself). With β ≠ 1 the tempered D* = σ(β·log p*/p) of
// discriminator.logit_scale (models/optimal_discriminator.h) stands for D* (and p_d_odds becomes
// p^(1−β)·p*^β).
std::vector<double> target(const std::vector<double>& p, const std::vector<double>& p_star, Target kind,
                           double beta = 1.0);

// One way of taking the generator update, iterated:
//   exact      p_{t+1} = q_t (the M-step solved exactly: p_θ represents any distribution);
//   gradient   `steps` gradient-descent steps of size lr on −Σ_y q_t(y) log p_θ(y) (exact expectation);
//   sampled    M sequences drawn from p_t (q̂ = p), weights wᵢ = self_normalise(log p − log q̂ + log D*),
//              then `steps` steps on −Σᵢ wᵢ log p_θ(yᵢ);
//   reinforce  M sequences from p_t, one policy-gradient ascent step of size lr on E_p[D*] with the
//              mean-reward baseline (GAN's update with the optimal discriminator).
enum class UpdateKind { exact, gradient, sampled, reinforce };
struct Update {
  UpdateKind kind = UpdateKind::exact;
  Target target = Target::p_d;
  int64_t steps = 5;
  double lr = 1.0;
  int64_t samples = 64;
  uint64_t seed = 0;
  double beta = 1.0;  // D's logit β·log p*/p: a tempered D* (1: D* itself)
};

// KL(p*‖p_t) for t = 0 … iterations.
std::vector<double> kl_curve(const Problem& problem, const Update& update, int64_t iterations);

// Writes one CSV row per (problem, update, iteration) for `problems` random problems of the given
// size: columns problem, update, iteration, kl. The updates: exact, gradient with 1 and 5 steps,
// sampled with M = 16 and 256 (5 steps), reinforce, and exact and sampled (M = 16) with D*
// tempered by β = 0.25; `coopgen enumerate` (docs/results.md).
void write_report(const std::string& csv_path, int64_t problems, int64_t vocab, int64_t length, int64_t iterations);

}  // namespace coopgen::enumerable
