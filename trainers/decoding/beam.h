// Discriminator-guided beam search (trainers/decoding/beam.cpp).
#pragma once
#include "trainers/decoding/decoding.h"

namespace coopgen {

// Discriminator-guided beam search (DAS, Scialom et al. 2020): each beam proposes `candidates`
// tokens (its most likely ones, or with `sample` a Gumbel-top-k draw from p, i.e. without
// replacement), and the beams kept are the best by log p(prefix) + λ log D(prefix). λ = 0 is
// plain beam search.
struct DasConfig {
  int64_t beams = 4;
  int64_t candidates = 8;  // per beam
  double lambda = 1.0;
  bool sample = false;     // stochastic candidates: different outputs from one start
  template <class V> void visit(V& v) {
    v("beams", beams, Range{1, kMaxBatch});
    v("candidates", candidates, Range{1, kMaxBatch});
    v("lambda", lambda);
    v("sample", sample);
  }
};

// Continuations by DAS, each the best of its own beam search; log p as above, log q̂ = 0 (a beam
// search is deterministic; with sampled candidates q̂ has no closed form).
SampledSet das_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                         const DasConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 64);

}  // namespace coopgen
