// The generator p_θ: a causal transformer (models/transformer.h) whose logits come through the
// tied token embedding. Incremental decoding keeps a KV cache, so sampling costs one position per
// step instead of re-running the prefix.
#pragma once
#include "models/transformer.h"

namespace coopgen {

using GeneratorConfig = TransformerConfig;

class Generator {
 public:
  using Cache = Transformer::Cache;
  Generator(const GeneratorConfig& cfg, int64_t vocab, uint64_t seed, Device device)
      : net_(cfg, vocab, seed, device, "") {}

  // ids i32 [B, T] → logits [B, T, V] (causal: position t sees positions ≤ t).
  Tensor forward(const Tensor& ids) const;
  Cache new_cache(int64_t batch) const { return net_.new_cache(batch); }
  // ids i32 [B] at position cache.len → logits [B, V]; appends to the cache. No history.
  Tensor step(const Tensor& ids, Cache& cache) const;
  // ids i32 [B, T] at positions cache.len.. → logits [B, V] at position last[b] of row b; the cache
  // keeps its length (the T positions written past it are scratch). Tree search evaluates paths of
  // different depths below a shared, cached prefix this way: one forward for the whole batch.
  Tensor lookahead(const Tensor& ids, const std::vector<int32_t>& last, Cache& cache) const;
  void gather_cache_rows(Cache& cache, const std::vector<int32_t>& rows) const { net_.gather_cache_rows(cache, rows); }

  NamedTensors& params() { return net_.params(); }
  const NamedTensors& params() const { return net_.params(); }
  int64_t vocab() const { return net_.vocab(); }
  const GeneratorConfig& config() const { return net_.config(); }
  Device device() const { return net_.device(); }

 private:
  Transformer net_;
};

}  // namespace coopgen
