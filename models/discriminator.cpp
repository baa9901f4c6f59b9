#include "models/discriminator.h"

#include <algorithm>

#include "engine/ops.h"

namespace coopgen {

TransformerDiscriminator::TransformerDiscriminator(const DiscriminatorConfig& cfg, int64_t vocab, uint64_t seed, Device device, bool causal,
                             Precision precision)
    : net_(cfg, vocab, seed, device, "disc.", precision), causal_(causal) {
  params_ = net_.params();
  head_w_ = Tensor::uniform({1, cfg.d_model}, seed ^ 0xd15cull, 0, -cfg.init_std * 1.7320508, cfg.init_std * 1.7320508,
                            DType::F32, device)
                .requires_grad_();
  head_b_ = Tensor::zeros({1}, DType::F32, device).requires_grad_();
  params_.emplace_back("disc.head.w", head_w_);
  params_.emplace_back("disc.head.b", head_b_);
}

Tensor TransformerDiscriminator::forward(const Tensor& ids, const Tensor& mask, std::optional<uint64_t> dropout_seed) const {
  CG_CHECK(mask.shape() == ids.shape(), "discriminator: mask ", describe(mask), " for ids ", describe(ids));
  const Tensor h = net_.encode(ids, causal_, mask, nullptr, dropout_seed).to(head_w_.dtype());  // [B, T, C], f32 for the head
  return linear(masked_mean(h, mask), head_w_, head_b_).reshape({ids.size(0)});
}

DiscriminatorPrefixCache::DiscriminatorPrefixCache(const TransformerDiscriminator& d, int64_t rows)
    : d_(d), cache_(d.net_.new_cache(rows)), committed_(size_t(rows), 0.0) {
  CG_CHECK(d.causal_, "discriminator prefix cache: D is bidirectional (discriminator.causal: false), so a committed "
                      "prefix's hidden states change with every token appended; only a causal D can be cached");
  NoGradGuard no_grad;
  bias_ = double(d.head_b_.to_vector<float>()[0]);
}

std::vector<double> DiscriminatorPrefixCache::head_sums(const Tensor& h, const std::vector<int32_t>& last) const {
  const int64_t B = h.size(0), T = h.size(1);
  std::vector<float> m(static_cast<size_t>(B * T), 0.0f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t <= last[size_t(b)]; ++t) m[size_t(b * T + t)] = 1.0f;
  const Tensor s = masked_sum(h, Tensor::from(m, {B, T}, h.device()));     // [B, C]
  const std::vector<float> x = matmul(s, d_.head_w_, false, true).to_vector<float>();  // [B, 1]
  return {x.begin(), x.end()};
}

void DiscriminatorPrefixCache::commit(const Tensor& ids) {
  NoGradGuard no_grad;
  CG_CHECK(ids.dim() == 2 && ids.size(0) == int64_t(committed_.size()) && ids.size(1) >= 1,
           "discriminator prefix cache: commit ids ", describe(ids), " for ", committed_.size(), " rows");
  const Tensor h = d_.net_.encode(ids, true, Tensor(), &cache_).to(d_.head_w_.dtype());
  const std::vector<double> s = head_sums(h, std::vector<int32_t>(committed_.size(), int32_t(ids.size(1) - 1)));
  for (size_t r = 0; r < committed_.size(); ++r) committed_[r] += s[r];
}

std::vector<double> DiscriminatorPrefixCache::score(const Tensor& ids, const std::vector<int32_t>& last) {
  NoGradGuard no_grad;
  const int64_t T = ids.dim() == 2 ? ids.size(1) : 0;
  CG_CHECK(ids.dim() == 2 && ids.size(0) == int64_t(committed_.size()) && T >= 1 && last.size() == committed_.size(),
           "discriminator prefix cache: score ids ", describe(ids), ", ", last.size(), " ends, for ", committed_.size(),
           " rows");
  for (int32_t l : last) CG_CHECK(l >= 0 && l < T, "discriminator prefix cache: end ", l, " of ", T, " positions");
  const Tensor h = d_.net_.encode(ids, true, Tensor(), &cache_).to(d_.head_w_.dtype());
  cache_.len -= T;  // scored, not committed: the next call writes over these positions
  const std::vector<double> s = head_sums(h, last);
  std::vector<double> out(committed_.size());
  for (size_t r = 0; r < out.size(); ++r)
    out[r] = (committed_[r] + s[r]) / double(cache_.len + last[r] + 1) + bias_;
  return out;
}

std::vector<double> DiscriminatorPrefixCache::score_next(const Tensor& cand) {
  NoGradGuard no_grad;
  const int64_t R = int64_t(committed_.size()), K = cand.dim() == 2 ? cand.size(1) : 0;
  CG_CHECK(cand.dim() == 2 && cand.size(0) == R && K >= 1, "discriminator prefix cache: candidates ", describe(cand),
           " for ", R, " rows");
  std::vector<int32_t> owner(static_cast<size_t>(R * K));
  for (size_t i = 0; i < owner.size(); ++i) owner[i] = int32_t(i / size_t(K));
  Transformer::Cache wide = cache_;  // the handles; the gather below makes new tensors
  d_.net_.gather_cache_rows(wide, owner);
  const Tensor h = d_.net_.encode(cand.reshape({R * K, 1}), true, Tensor(), &wide).to(d_.head_w_.dtype());
  const std::vector<double> s = head_sums(h, std::vector<int32_t>(owner.size(), 0));
  std::vector<double> out(owner.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = (committed_[size_t(owner[i])] + s[i]) / double(cache_.len + 1) + bias_;
  return out;
}

void pack_sequences(const std::vector<const std::vector<int32_t>*>& seqs, int32_t pad, Device device, Tensor& ids,
                    Tensor& mask) {
  const int64_t B = int64_t(seqs.size());
  int64_t T = 1;
  for (auto* s : seqs) T = std::max<int64_t>(T, int64_t(s->size()));
  std::vector<int32_t> in(static_cast<size_t>(B * T), pad);
  std::vector<float> m(static_cast<size_t>(B * T), 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    CG_CHECK(!seqs[size_t(b)]->empty(), "discriminator input: sequence ", b, " is empty");
    for (size_t t = 0; t < seqs[size_t(b)]->size(); ++t) {
      in[size_t(b * T) + t] = (*seqs[size_t(b)])[t];
      m[size_t(b * T) + t] = 1.0f;
    }
  }
  ids = Tensor::from(in, {B, T}, device);
  mask = Tensor::from(m, {B, T}, device);
}

std::vector<double> discriminator_logits(const TransformerDiscriminator& d, const std::vector<std::vector<int32_t>>& seqs,
                                         int32_t pad, Device device) {
  NoGradGuard no_grad;
  std::vector<double> out;
  for (size_t first = 0; first < seqs.size(); first += 256) {
    std::vector<const std::vector<int32_t>*> batch;
    for (size_t r = first; r < std::min(seqs.size(), first + 256); ++r) batch.push_back(&seqs[r]);
    Tensor ids, mask;
    pack_sequences(batch, pad, device, ids, mask);
    for (float v : d.forward(ids, mask).to_vector<float>()) out.push_back(double(v));
  }
  return out;
}

}  // namespace coopgen
