// The generator p_θ: a decoder-only transformer (GPT-2 style): learned token and position
// embeddings, pre-LayerNorm blocks of causal multi-head attention and a GELU MLP, a final
// LayerNorm, and logits through the tied token embedding. Incremental decoding keeps a KV cache
// per layer, so sampling costs one position per step instead of re-running the prefix.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/optim.h"
#include "engine/tensor.h"

namespace coopgen {

struct GeneratorConfig {
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t max_len = 32;  // positions (including the start token)
  double init_std = 0.02;
  template <class V> void visit(V& v) {
    v("d_model", d_model);
    v("layers", layers);
    v("heads", heads);
    v("max_len", max_len);
    v("init_std", init_std);
  }
};

class Generator {
 public:
  // Parameters initialised from the Philox stream `seed` (uniform with std init_std; residual
  // projections scaled by 1/√(2·layers), as GPT-2).
  Generator(const GeneratorConfig& cfg, int64_t vocab, uint64_t seed, Device device);

  // ids i32 [B, T] → logits [B, T, V] (causal: position t sees positions ≤ t).
  Tensor forward(const Tensor& ids) const;

  struct Cache {
    std::vector<Tensor> k, v;  // per layer [B, H, max_len, D]
    int64_t len = 0;           // positions filled
  };
  Cache new_cache(int64_t batch) const;
  // ids i32 [B] at position cache.len → logits [B, V]; appends to the cache. No history.
  Tensor step(const Tensor& ids, Cache& cache) const;

  NamedTensors& params() { return params_; }
  const NamedTensors& params() const { return params_; }
  int64_t vocab() const { return vocab_; }
  const GeneratorConfig& config() const { return cfg_; }
  Device device() const { return device_; }

 private:
  const Tensor& p(const std::string& name) const;
  // Runs the blocks on x [B, T, C]; with a cache, keys and values are appended at cache->len
  // and attention covers the cached prefix.
  Tensor blocks(Tensor x, Cache* cache) const;

  GeneratorConfig cfg_;
  int64_t vocab_;
  Device device_;
  NamedTensors params_;
  std::map<std::string, Tensor> by_name_;
};

}  // namespace coopgen
