// The discriminator D(y) ∈ (0, 1): a transformer over a padded batch (its key mask hides the
// padding), mean-pooled over the real tokens, and one logit. Bidirectional by default; causal, each
// position sees only its prefix, as when D is started from the generator's weights. Any prefix
// length up to max_len is a valid input, so decoders can score unfinished sequences.
#pragma once
#include "models/transformer.h"

namespace coopgen {

using DiscriminatorConfig = TransformerConfig;

class Discriminator {
 public:
  Discriminator(const DiscriminatorConfig& cfg, int64_t vocab, uint64_t seed, Device device, bool causal = false);
  // ids i32 [B, T], mask [B, T] (1 token, 0 padding; every row with at least one token) →
  // logits [B]; D = sigmoid(logit), trained with bce_with_logits.
  Tensor forward(const Tensor& ids, const Tensor& mask) const;
  NamedTensors& params() { return params_; }

 private:
  Transformer net_;
  bool causal_;
  Tensor head_w_, head_b_;  // [1, C], [1]
  NamedTensors params_;
};

}  // namespace coopgen
