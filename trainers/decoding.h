// Decoding from the generator: batched ancestral sampling with the KV cache.
#pragma once
#include <vector>

#include "engine/ops.h"
#include "models/generator.h"
#include "models/oracle.h"

namespace coopgen {

struct SampledSet {
  Sequences seqs;
  std::vector<double> logp, logq;  // per sequence: Σ_t log p, Σ_t log q̂ of its tokens
};

// `n` sequences of up to `length` tokens after `start_token`, drawn from q̂ (cfg) with Philox
// `seed`. A sequence ends with its first `eos` (kept; −1: fixed length), and its log p and log q̂
// sum over the tokens up to and including it.
SampledSet sample_sequences(const Generator& g, int64_t n, int64_t length, int32_t start_token,
                            const SamplingConfig& cfg, uint64_t seed, int32_t eos = -1, int64_t batch = 256);

}  // namespace coopgen
