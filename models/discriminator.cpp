#include "models/discriminator.h"

#include <algorithm>

#include "engine/ops.h"

namespace coopgen {

Discriminator::Discriminator(const DiscriminatorConfig& cfg, int64_t vocab, uint64_t seed, Device device, bool causal,
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

Tensor Discriminator::forward(const Tensor& ids, const Tensor& mask) const {
  CG_CHECK(mask.shape() == ids.shape(), "discriminator: mask ", describe(mask), " for ids ", describe(ids));
  const Tensor h = net_.encode(ids, causal_, mask, nullptr).to(head_w_.dtype());  // [B, T, C], f32 for the head
  return linear(masked_mean(h, mask), head_w_, head_b_).reshape({ids.size(0)});
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

std::vector<double> discriminator_logits(const Discriminator& d, const std::vector<std::vector<int32_t>>& seqs,
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
