// The generator p_θ: a causal transformer (models/transformer.h) whose logits come through the
// tied token embedding. Incremental decoding keeps a KV cache, so sampling costs one position per
// step instead of re-running the prefix.
#pragma once
#include <memory>
#include <string>

#include "engine/config.h"
#include "models/checkpoint_ref.h"
#include "models/transformer.h"

namespace coopgen {

struct GeneratorConfig : TransformerConfig {
  // The training loss's route through the tied output embedding: 0, the full B·T×V logits;
  // C > 0, the fused output layer in vocabulary chunks of C tokens (weighted_logprob_linear): B·T·C
  // floats instead of B·T·V, for one more product h·Wᵀ in the backward pass.
  int64_t output_chunk = 0;
  // Where the weights start: empty, fresh (init_std); a folder, the generator of that checkpoint
  // (an MLE or adversarial run's checkpoint/: every method can continue from any of them), or
  // hf_gpt2:DIR, a GPT-2 checkpoint.
  CheckpointRef init{};
  // On CUDA, ancestral sampling (sample_sequences) replays each decode's token steps as one CUDA
  // graph, captured at the first decode of its shape; false: every step launched one kernel at a
  // time (the same tokens either way).
  bool decode_graphs = true;
  template <class V> void visit(V& v) {
    TransformerConfig::visit(v);
    v("output_chunk", output_chunk, Range{0, kUnbounded});
    v("init", init);
    v("decode_graphs", decode_graphs);
  }
};

class Generator {
 public:
  using Cache = Transformer::Cache;
  // `prefix` starts every parameter's name ("" for the generator; a second language model inside
  // a discriminator takes "disc.lm.", so one checkpoint holds both).
  Generator(const GeneratorConfig& cfg, int64_t vocab, uint64_t seed, Device device, Precision precision = Precision::F32,
            const std::string& prefix = "")
      : net_(cfg, vocab, seed, device, prefix, precision), cfg_(cfg) {}

  // ids i32 [B, T] → logits [B, T, V] (causal: position t sees positions ≤ t).
  Tensor forward(const Tensor& ids) const;
  // −Σ_b w_b Σ_t m_bt log p(y_bt | ids_b,≤t) for ids, y, m [B, T] (or [B·T]) and w [B]: the loss of
  // MLE (w = 1/tokens), GAN, RML-GAN and GCN (w = the samples' weights), through the route
  // config().output_chunk chooses. dropout_seed: a training pass (Transformer::encode).
  Tensor weighted_logprob(const Tensor& ids, const Tensor& y, const Tensor& m, const Tensor& w,
                          std::optional<uint64_t> dropout_seed = std::nullopt) const;
  // log p(y) = Σ_t log p(y_t | start, y_<t) of each sequence or unfinished prefix (ids in [0, V),
  // at most max_len − 1 tokens), from one forward pass per batch of rows; double sums, no history.
  std::vector<double> sequence_logprobs(const std::vector<std::vector<int32_t>>& seqs, int32_t start_token,
                                        int64_t batch = 64) const;
  Cache new_cache(int64_t batch) const { return net_.new_cache(batch); }
  // ids i32 [B] at position cache.len → logits [B, V]; appends to the cache. No history.
  Tensor step(const Tensor& ids, Cache& cache) const;
  // ids i32 [B, T] at positions cache.len.. → logits [B, V] at position last[b] of row b; the cache
  // keeps its length (the T positions written past it are scratch). Tree search evaluates paths of
  // different depths below a shared, cached prefix this way: one forward for the whole batch.
  Tensor lookahead(const Tensor& ids, const std::vector<int32_t>& last, Cache& cache) const;
  void gather_cache_rows(Cache& cache, const std::vector<int32_t>& rows) const { net_.gather_cache_rows(cache, rows); }

  // sample_sequences' CUDA graphs (trainers/decoding/decoding.cpp), kept with the generator whose
  // weights they read in place; made there on first use.
  struct DecodeGraphs;
  std::shared_ptr<DecodeGraphs>& decode_graphs() const { return decode_graphs_; }

  NamedTensors& params() { return net_.params(); }
  const NamedTensors& params() const { return net_.params(); }
  int64_t vocab() const { return net_.vocab(); }
  const GeneratorConfig& config() const { return cfg_; }
  Device device() const { return net_.device(); }

 private:
  Tensor logits(const Tensor& h) const;

  Transformer net_;
  GeneratorConfig cfg_;
  mutable std::shared_ptr<DecodeGraphs> decode_graphs_;
};

}  // namespace coopgen
