#include "models/generator.h"

#include <cmath>

#include "engine/ops.h"

namespace coopgen {

Generator::Generator(const GeneratorConfig& cfg, int64_t vocab, uint64_t seed, Device device)
    : cfg_(cfg), vocab_(vocab), device_(device) {
  const int64_t C = cfg.d_model;
  CG_CHECK(C > 0 && cfg.heads > 0 && C % cfg.heads == 0, "model.d_model (", C, ") must be a positive multiple of model.heads (",
           cfg.heads, ")");
  CG_CHECK(cfg.layers > 0 && cfg.max_len > 1 && vocab > 0, "model: layers, max_len and the vocabulary must be positive");
  uint64_t offset = 0;
  auto add_param = [&](const std::string& name, const Shape& shape, double std) {
    Tensor t;
    if (std > 0) {  // uniform on [−a, a] has standard deviation a/√3
      const double a = std * std::sqrt(3.0);
      t = Tensor::uniform(shape, seed, offset, -a, a, DType::F32, device);
      offset += uint64_t(shape_numel(shape) / 4 + 1);
    } else {
      t = Tensor::full(shape, std < 0 ? 1.0 : 0.0, DType::F32, device);  // std < 0: gains of one
    }
    t.requires_grad_();
    params_.emplace_back(name, t);
    by_name_[name] = t;
  };
  const double s = cfg.init_std, residual = cfg.init_std / std::sqrt(2.0 * double(cfg.layers));
  add_param("wte", {vocab, C}, s);
  add_param("wpe", {cfg.max_len, C}, s);
  for (int64_t l = 0; l < cfg.layers; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    add_param(h + "ln1.g", {C}, -1);
    add_param(h + "ln1.b", {C}, 0);
    add_param(h + "attn.w", {3 * C, C}, s);
    add_param(h + "attn.b", {3 * C}, 0);
    add_param(h + "proj.w", {C, C}, residual);
    add_param(h + "proj.b", {C}, 0);
    add_param(h + "ln2.g", {C}, -1);
    add_param(h + "ln2.b", {C}, 0);
    add_param(h + "fc.w", {4 * C, C}, s);
    add_param(h + "fc.b", {4 * C}, 0);
    add_param(h + "out.w", {C, 4 * C}, residual);
    add_param(h + "out.b", {C}, 0);
  }
  add_param("lnf.g", {C}, -1);
  add_param("lnf.b", {C}, 0);
}

const Tensor& Generator::p(const std::string& name) const { return by_name_.at(name); }

Tensor Generator::blocks(Tensor x, Cache* cache) const {
  const int64_t B = x.size(0), T = x.size(1), C = cfg_.d_model, H = cfg_.heads, D = C / H;
  const int64_t start = cache ? cache->len : 0;
  auto heads = [&](const Tensor& qkv, int64_t part) {  // [B,T,3C] → part's [B,H,T,D]
    return qkv.slice(2, part * C, (part + 1) * C).reshape({B, T, H, D}).permute({0, 2, 1, 3});
  };
  for (int64_t l = 0; l < cfg_.layers; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    const Tensor qkv = linear(layernorm(x, p(h + "ln1.g"), p(h + "ln1.b")), p(h + "attn.w"), p(h + "attn.b"));
    Tensor q = heads(qkv, 0), k = heads(qkv, 1), v = heads(qkv, 2);
    if (cache) {
      Tensor kdst = cache->k[size_t(l)].slice(2, start, start + T), vdst = cache->v[size_t(l)].slice(2, start, start + T);
      copy_(kdst, k);
      copy_(vdst, v);
      k = cache->k[size_t(l)].slice(2, 0, start + T);
      v = cache->v[size_t(l)].slice(2, 0, start + T);
    }
    const Tensor a = attention(q, k, v, Tensor(), true).permute({0, 2, 1, 3}).reshape({B, T, C});
    x = add(x, linear(a, p(h + "proj.w"), p(h + "proj.b")));
    const Tensor m = gelu(linear(layernorm(x, p(h + "ln2.g"), p(h + "ln2.b")), p(h + "fc.w"), p(h + "fc.b")));
    x = add(x, linear(m, p(h + "out.w"), p(h + "out.b")));
  }
  return x;
}

static Tensor positions(int64_t batch, int64_t start, int64_t len, Device device) {
  std::vector<int32_t> pos(static_cast<size_t>(batch * len));
  for (size_t k = 0; k < pos.size(); ++k) pos[k] = int32_t(start + int64_t(k) % len);
  return Tensor::from(pos, {batch, len}, device);
}

Tensor Generator::forward(const Tensor& ids) const {
  CG_CHECK(ids.dim() == 2 && ids.size(1) <= cfg_.max_len, "generator: ids ", describe(ids),
           " must be [B, T] with T ≤ model.max_len = ", cfg_.max_len);
  const int64_t B = ids.size(0), T = ids.size(1);
  Tensor x = add(embedding(ids, p("wte")), embedding(positions(B, 0, T, device_), p("wpe")));
  x = layernorm(blocks(x, nullptr), p("lnf.g"), p("lnf.b"));
  return matmul(x, p("wte"), false, true);
}

Generator::Cache Generator::new_cache(int64_t batch) const {
  Cache c;
  const int64_t H = cfg_.heads, D = cfg_.d_model / H;
  for (int64_t l = 0; l < cfg_.layers; ++l) {
    c.k.push_back(Tensor::zeros({batch, H, cfg_.max_len, D}, DType::F32, device_));
    c.v.push_back(Tensor::zeros({batch, H, cfg_.max_len, D}, DType::F32, device_));
  }
  return c;
}

Tensor Generator::step(const Tensor& ids, Cache& cache) const {
  NoGradGuard no_grad;
  const int64_t B = ids.size(0);
  CG_CHECK(cache.len < cfg_.max_len, "generator: decoding past model.max_len = ", cfg_.max_len);
  Tensor x = add(embedding(ids.reshape({B, 1}), p("wte")), embedding(positions(B, cache.len, 1, device_), p("wpe")));
  x = layernorm(blocks(x, &cache), p("lnf.g"), p("lnf.b"));
  cache.len += 1;
  return matmul(x, p("wte"), false, true).reshape({B, vocab_});
}

}  // namespace coopgen
