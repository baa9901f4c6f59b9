#include "models/generator.h"

#include <algorithm>
#include <cmath>

#include "engine/logspace.h"
#include "engine/ops.h"

namespace coopgen {

// Next-token logits of hidden states h [..., C], in the parameters' dtype (f32) whatever the
// activations': samplers and searches read them on the host.
Tensor Generator::logits(const Tensor& h) const {
  return matmul(h, net_.weight("wte"), false, true).to(net_.param("wte").dtype());
}

Tensor Generator::forward(const Tensor& ids) const { return logits(net_.encode(ids, true, Tensor(), nullptr)); }

Tensor Generator::weighted_logprob(const Tensor& ids, const Tensor& y, const Tensor& m, const Tensor& w,
                                   std::optional<uint64_t> dropout_seed) const {
  const int64_t B = ids.size(0), T = ids.size(1);
  const Tensor yb = y.reshape({B, T}), mb = m.reshape({B, T});
  const Tensor h = net_.encode(ids, true, Tensor(), nullptr, dropout_seed);
  if (cfg_.output_chunk > 0) return weighted_logprob_linear(h, net_.weight("wte"), yb, mb, w, cfg_.output_chunk);
  return coopgen::weighted_logprob(matmul(h, net_.weight("wte"), false, true), yb, mb, w);
}

std::vector<double> Generator::sequence_logprobs(const std::vector<std::vector<int32_t>>& seqs, int32_t start_token,
                                                 int64_t batch) const {
  NoGradGuard no_grad;
  const int64_t V = vocab();
  std::vector<double> out(seqs.size(), 0.0);
  for (size_t first = 0; first < seqs.size(); first += size_t(batch)) {
    const size_t b = std::min(seqs.size() - first, size_t(batch));
    size_t T = 1;
    for (size_t r = 0; r < b; ++r) T = std::max(T, seqs[first + r].size());
    CG_CHECK(int64_t(T) < config().max_len, "sequence_logprobs: ", T, " tokens past max_len ", config().max_len);
    // Inputs start, y_0 … y_{T−2}; positions past a row's end read the start token (causal: they
    // change nothing before them) and are not summed.
    std::vector<int32_t> ids(b * T, start_token);
    for (size_t r = 0; r < b; ++r)
      for (size_t t = 1; t < seqs[first + r].size(); ++t) ids[r * T + t] = seqs[first + r][t - 1];
    const std::vector<float> z = forward(Tensor::from(ids, {int64_t(b), int64_t(T)}, device())).to_vector<float>();
    for (size_t r = 0; r < b; ++r)
      for (size_t t = 0; t < seqs[first + r].size(); ++t) {
        const float* row = z.data() + (r * T + t) * size_t(V);
        const int32_t y = seqs[first + r][t];
        CG_CHECK(y >= 0 && y < V, "sequence_logprobs: token ", y, " outside the vocabulary of ", V);
        out[first + r] += double(row[y]) - log_sum_exp(row, V);
      }
  }
  return out;
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
