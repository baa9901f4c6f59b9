#include "models/discriminator.h"

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

}  // namespace coopgen
