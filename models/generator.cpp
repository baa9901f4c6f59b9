#include "models/generator.h"

#include "engine/ops.h"

namespace coopgen {

// Next-token logits of hidden states h [..., C], in the parameters' dtype (f32) whatever the
// activations': samplers and searches read them on the host.
Tensor Generator::logits(const Tensor& h) const {
  return matmul(h, net_.weight("wte"), false, true).to(net_.param("wte").dtype());
}

Tensor Generator::forward(const Tensor& ids) const { return logits(net_.encode(ids, true, Tensor(), nullptr)); }

Tensor Generator::weighted_logprob(const Tensor& ids, const Tensor& y, const Tensor& m, const Tensor& w) const {
  const int64_t B = ids.size(0), T = ids.size(1);
  const Tensor yb = y.reshape({B, T}), mb = m.reshape({B, T});
  const Tensor h = net_.encode(ids, true, Tensor(), nullptr);
  if (output_chunk_ > 0) return weighted_logprob_linear(h, net_.weight("wte"), yb, mb, w, output_chunk_);
  return coopgen::weighted_logprob(matmul(h, net_.weight("wte"), false, true), yb, mb, w);
}

Tensor Generator::step(const Tensor& ids, Cache& cache) const {
  NoGradGuard no_grad;
  const int64_t B = ids.size(0);
  const Tensor h = net_.encode(ids.reshape({B, 1}), true, Tensor(), &cache);
  return logits(h).reshape({B, vocab()});
}

Tensor Generator::lookahead(const Tensor& ids, const std::vector<int32_t>& last, Cache& cache) const {
  NoGradGuard no_grad;
  const int64_t B = ids.size(0), T = ids.size(1), C = config().d_model;
  CG_CHECK(int64_t(last.size()) == B, "lookahead: ", last.size(), " positions for ", B, " rows");
  const Tensor h = net_.encode(ids, true, Tensor(), &cache);  // [B, T, C]
  cache.len -= T;
  std::vector<int32_t> rows(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    CG_CHECK(last[size_t(b)] >= 0 && last[size_t(b)] < T, "lookahead: position ", last[size_t(b)], " of ", T);
    rows[size_t(b)] = int32_t(b * T + last[size_t(b)]);
  }
  const Tensor picked = embedding(Tensor::from(rows, {B}, device()), h.reshape({B * T, C}));  // [B, C]
  return logits(picked);
}

}  // namespace coopgen
