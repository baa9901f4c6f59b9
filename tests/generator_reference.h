// The generator computed the slow, obvious way, as the decoders' tests' reference: a full forward
// pass over the whole prefix per query (no KV cache, no batching), log-softmax in double.
#pragma once
#include <vector>

#include "engine/logspace.h"
#include "models/generator.h"

namespace coopgen::testing {

// A small generator with large weights (init_std 0.3), so priors and beams differ and a wrong
// index shows.
inline Generator tiny_generator(int64_t vocab, int64_t max_len, uint64_t seed) {
  GeneratorConfig cfg;
  cfg.d_model = 16, cfg.layers = 2, cfg.heads = 2, cfg.max_len = max_len;
  cfg.init_std = 0.3;
  return Generator(cfg, vocab, seed, Device::CPU);
}

// log p(· | start, prefix) from one forward pass over the whole prefix.
inline std::vector<double> next_logp(const Generator& g, int32_t start, const std::vector<int32_t>& prefix) {
  NoGradGuard no_grad;
  std::vector<int32_t> ids{start};
  ids.insert(ids.end(), prefix.begin(), prefix.end());
  const int64_t T = int64_t(ids.size()), V = g.vocab();
  const std::vector<float> z = g.forward(Tensor::from(ids, {1, T})).to_vector<float>();
  std::vector<double> out(z.begin() + (T - 1) * V, z.end());  // the last position's logits, in double
  const double lse = log_sum_exp(out);
  for (double& x : out) x -= lse;
  return out;
}

}  // namespace coopgen::testing
