// The transformer both models are built on: learned token and position embeddings, pre-LayerNorm
// blocks of multi-head attention and a GELU MLP (GPT-2's layout), and a final LayerNorm. The
// generator runs it causally (with a KV cache for decoding); the discriminator bidirectionally
// over a padded batch.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/tensor.h"

namespace coopgen {

// The largest sizes a model may have: far above GPT-2 XL's (48 layers, width 1600, 1024 positions,
// 50,257 tokens), and small enough that no product of sizes overflows. A larger value is a typo,
// refused where it is read (a config key, a GPT-2 config.json) before anything is allocated.
inline constexpr int64_t kMaxDModel = 1 << 16, kMaxLayers = 1024, kMaxHeads = 1024, kMaxPositions = 1 << 20,
                         kMaxVocab = 1 << 24;

struct TransformerConfig {
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t max_len = 32;  // positions (for the generator: including the start token)
  double init_std = 0.02;
  // In training passes: inverted dropout at this rate on the embeddings and on each block's two
  // residual branches (GPT-2's embd_pdrop and resid_pdrop; attention probabilities are not dropped:
  // the fused attention never forms them). Evaluation, sampling and scoring drop nothing.
  double dropout = 0;
  template <class V> void visit(V& v) {
    v("d_model", d_model, Range{1, double(kMaxDModel)});
    v("layers", layers, Range{1, double(kMaxLayers)});
    v("heads", heads, Range{1, double(kMaxHeads)});
    v.require("heads", d_model % heads == 0, std::to_string(heads) + " does not divide d_model (" + std::to_string(d_model) + ")");
    v("max_len", max_len, Range{2, double(kMaxPositions)});
    v("init_std", init_std, Range{0, kUnbounded});
    v("dropout", dropout, Range{0, 0.9});
  }
  // Parameters of the transformer over `vocab` tokens (embeddings, blocks, final LayerNorm).
  double parameters(int64_t vocab) const;
};

class Transformer {
 public:
  struct Cache {
    std::vector<Tensor> k, v;  // per layer [B, H, max_len, D]
    int64_t len = 0;           // positions filled
  };

  // Parameters from the Philox stream `seed` (uniform with std init_std; residual projections
  // scaled by 1/√(2·layers), as GPT-2), named "<prefix>wte", "<prefix>h.0.attn.w", ...; f32 master
  // weights, activations as `precision` says (engine/ops.h).
  Transformer(const TransformerConfig& cfg, int64_t vocab, uint64_t seed, Device device, const std::string& prefix,
              Precision precision = Precision::F32);

  // ids i32 [B, T] at positions start.. → hidden states [B, T, C] after the final LayerNorm, in
  // activation_dtype().
  // causal: position t attends to ≤ t; key_mask [B, T] (1 keep, 0 padding) may be undefined;
  // with a cache, keys/values are appended at cache->len and attention covers the cached prefix.
  // dropout_seed: a training pass, with config().dropout's masks from this Philox seed (each site
  // its own stream); without it nothing is dropped.
  Tensor encode(const Tensor& ids, bool causal, const Tensor& key_mask, Cache* cache,
                std::optional<uint64_t> dropout_seed = std::nullopt) const;
  Cache new_cache(int64_t batch) const;
  // Row r of the cache becomes old row rows[r] (beam search keeps the caches of the surviving
  // beams): one row gather per layer, through the embedding op (a row lookup on any backend).
  void gather_cache_rows(Cache& cache, const std::vector<int32_t>& rows) const;

  const Tensor& param(const std::string& name) const { return by_name_.at(prefix_ + name); }
  // The activations' dtype: bf16 on CUDA under precision bf16, else the parameters'.
  DType activation_dtype() const;
  // A parameter as the matmuls and norms use it: cast to activation_dtype() (a differentiable
  // copy: its gradient returns to the f32 master weight), or itself.
  Tensor weight(const std::string& name) const { return param(name).to(activation_dtype()); }
  NamedTensors& params() { return params_; }
  const NamedTensors& params() const { return params_; }
  const TransformerConfig& config() const { return cfg_; }
  int64_t vocab() const { return vocab_; }
  Device device() const { return device_; }

 private:
  TransformerConfig cfg_;
  int64_t vocab_;
  Device device_;
  std::string prefix_;
  Precision precision_;
  NamedTensors params_;
  std::map<std::string, Tensor> by_name_;
};

}  // namespace coopgen
