// The discriminator D(y) ∈ (0, 1): a transformer over a padded batch (its key mask hides the
// padding), mean-pooled over the real tokens, and one logit. Bidirectional by default; causal, each
// position sees only its prefix, as when D is started from the generator's weights. Any prefix
// length up to max_len is a valid input, so decoders can score unfinished sequences.
#pragma once
#include <vector>

#include "models/transformer.h"

namespace coopgen {

// What the guided proposal asks of a discriminator (trainers/decoding/decoding.h, decoder `guided`): per
// decoding step, D's logit on each row's prefix y_<t extended by each candidate token v, so that
// q̂(v | y_<t) ∝ p(v | y_<t) · D(y_<t v) can be drawn. One guide serves one decode of a batch.
class PrefixGuide {
 public:
  virtual ~PrefixGuide() = default;
  // Candidates scored per row: 0 means the whole vocabulary (exact), k > 0 the k tokens the
  // decoder names (the rest of the mass stays with p).
  virtual int64_t candidates() const = 0;
  // Step t: `logp` [rows × V] the generator's log p(v | y_<t) (double) when candidates() = 0, empty
  // otherwise; `cand` the candidate ids per row when candidates() > 0 (empty for a row that has ended). Returns D's logits on y_<t·v:
  // [rows × V], or the rows' candidates one after another in the order given.
  virtual std::vector<double> score(const std::vector<double>& logp, const std::vector<std::vector<int32_t>>& cand) = 0;
  // The token each row took at step t (ended rows: anything; they are never asked again).
  virtual void advance(const std::vector<int32_t>& tokens) = 0;
};

using DiscriminatorConfig = TransformerConfig;

class TransformerDiscriminator {
 public:
  TransformerDiscriminator(const DiscriminatorConfig& cfg, int64_t vocab, uint64_t seed, Device device, bool causal = false,
                Precision precision = Precision::F32);
  // ids i32 [B, T], mask [B, T] (1 token, 0 padding; every row with at least one token) →
  // logits [B]; D = sigmoid(logit), trained with bce_with_logits. dropout_seed: a training pass
  // (Transformer::encode).
  Tensor forward(const Tensor& ids, const Tensor& mask, std::optional<uint64_t> dropout_seed = std::nullopt) const;
  NamedTensors& params() { return params_; }
  bool causal() const { return causal_; }

 private:
  friend class DiscriminatorPrefixCache;
  Transformer net_;
  bool causal_;
  Tensor head_w_, head_b_;  // [1, C], [1]
  NamedTensors params_;
};

// A causal D along prefixes that grow one committed token at a time (the tree search): the
// committed prefix's keys and values stay in a KV cache and the head's projection of its hidden
// states in a running sum, so scoring a continuation runs the transformer over the continuation
// only. Exact, because D pools by the mean and its head is linear, logit(y) = w·(Σ_t h_t)/|y| + b,
// and a causal encoder's h_t does not depend on the tokens after t. Rows [rows], capacity max_len.
class DiscriminatorPrefixCache {
 public:
  // Fails unless D is causal (a bidirectional D's h_t changes with every appended token).
  DiscriminatorPrefixCache(const TransformerDiscriminator& d, int64_t rows);
  // Appends ids i32 [rows, T] (T ≥ 1) to every row's committed prefix.
  void commit(const Tensor& ids);
  // D's logits on each row's committed prefix followed by ids[r, 0..last[r]] (ids i32 [rows, T];
  // positions after last[r] are read but ignored), leaving the committed prefix as it was. One
  // transformer pass over T positions; rows.size() floats read back.
  std::vector<double> score(const Tensor& ids, const std::vector<int32_t>& last);
  // D's logits on each row's committed prefix followed by one candidate token, K alternatives per
  // row (cand i32 [rows, K]) → [rows·K], row-major; the committed prefix stays as it was. One
  // transformer pass over rows·K one-token continuations, each attending to its row's cached keys
  // and values (gathered K times: 2·rows·K·max_len·C values per layer, the whole capacity, copied);
  // rows·K floats read back.
  std::vector<double> score_next(const Tensor& cand);

 private:
  // w · Σ_{t ≤ last[r]} h[r, t] for each row of h [rows, T, C].
  std::vector<double> head_sums(const Tensor& h, const std::vector<int32_t>& last) const;
  const TransformerDiscriminator& d_;
  Transformer::Cache cache_;
  std::vector<double> committed_;  // w · Σ_t h_t over each row's committed prefix
  double bias_;                    // b
};

// D's input from sequences: ids i32 [B, T] (padded with `pad`) and mask [B, T] (1 on tokens).
void pack_sequences(const std::vector<const std::vector<int32_t>*>& seqs, int32_t pad, Device device, Tensor& ids,
                    Tensor& mask);

// D's logits on `seqs` (sequences or unfinished prefixes), without history, in batches of 256.
std::vector<double> discriminator_logits(const TransformerDiscriminator& d, const std::vector<std::vector<int32_t>>& seqs,
                                         int32_t pad, Device device);

}  // namespace coopgen
