#include "models/transformer.h"

#include <cmath>

#include "engine/allocator.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace coopgen {

Transformer::Transformer(const TransformerConfig& cfg, int64_t vocab, uint64_t seed, Device device,
                         const std::string& prefix, Precision precision)
    : cfg_(cfg), vocab_(vocab), device_(device), prefix_(prefix), precision_(precision) {
  const int64_t C = cfg.d_model;
  // The config reader refuses these with the file and line; a model built in code gets them here.
  const std::string key = prefix.empty() ? "model" : "discriminator.model";
  if (C < 1 || C > kMaxDModel || cfg.heads < 1 || cfg.heads > kMaxHeads || C % cfg.heads != 0 || cfg.layers < 1 ||
      cfg.layers > kMaxLayers || cfg.max_len < 2 || cfg.max_len > kMaxPositions || vocab < 1 || vocab > kMaxVocab)
    fail(key, ": d_model ", C, ", heads ", cfg.heads, ", layers ", cfg.layers, ", max_len ", cfg.max_len, " and vocabulary ",
         vocab, " are not a model coopgen can build (heads must divide d_model; limits in models/transformer.h)");
  // Weights, gradients and two AdamW moments of 4 bytes each: a model whose training state cannot
  // fit in this machine's memory is refused at once, naming its sizes, not after gigabytes of allocation.
  const double bytes = 16 * cfg.parameters(vocab), memory = host_memory_bytes();
  if (memory > 0 && bytes > memory)
    fail(key, ": d_model ", C, ", layers ", cfg.layers, ", max_len ", cfg.max_len, " and vocabulary ", vocab, " make ",
         cfg.parameters(vocab), " parameters, whose training state (", bytes / 1e9, " GB) exceeds this machine's memory (",
         memory / 1e9, " GB)");
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
    params_.emplace_back(prefix + name, t);
    by_name_[prefix + name] = t;
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

double TransformerConfig::parameters(int64_t vocab) const {
  const double C = double(d_model);
  return double(vocab + max_len) * C + double(layers) * (12 * C * C + 13 * C) + 2 * C;
}

DType Transformer::activation_dtype() const {
  return device_ == Device::CUDA && precision_ == Precision::BF16 ? DType::BF16 : param("wte").dtype();
}

Transformer::Cache Transformer::new_cache(int64_t batch) const {
  Cache c;
  const int64_t H = cfg_.heads, D = cfg_.d_model / H;
  for (int64_t l = 0; l < cfg_.layers; ++l) {
    c.k.push_back(Tensor::zeros({batch, H, cfg_.max_len, D}, activation_dtype(), device_));
    c.v.push_back(Tensor::zeros({batch, H, cfg_.max_len, D}, activation_dtype(), device_));
  }
  return c;
}

void Transformer::gather_cache_rows(Cache& cache, const std::vector<int32_t>& rows) const {
  NoGradGuard no_grad;
  const int64_t n = int64_t(rows.size());
  const Tensor index = Tensor::from(rows, {n}, device_);
  for (std::vector<Tensor>* kv : {&cache.k, &cache.v})
    for (Tensor& t : *kv) {
      const Shape s = t.shape();  // [B, H, max_len, D] viewed as B rows of H·max_len·D
      t = embedding(index, t.reshape({s[0], s[1] * s[2] * s[3]})).reshape({n, s[1], s[2], s[3]});
    }
}

// Positions start … start + T − 1 of each of B rows, i32 [B, T]. A decoding step's (T = 1) are one
// value, filled on the device: no upload, nor a pageable copy that a CUDA graph capture refuses.
static Tensor positions(int64_t B, int64_t T, int64_t start, Device device) {
  if (T == 1) return Tensor::full({B, 1}, double(start), DType::I32, device);
  std::vector<int32_t> pos(static_cast<size_t>(B * T));
  for (size_t k = 0; k < pos.size(); ++k) pos[k] = int32_t(start + int64_t(k) % T);
  return Tensor::from(pos, {B, T}, device);
}

Tensor Transformer::encode(const Tensor& ids, bool causal, const Tensor& key_mask, Cache* cache,
                           std::optional<uint64_t> dropout_seed) const {
  const int64_t start = cache ? cache->len : 0;
  CG_CHECK(ids.dim() == 2 && start + ids.size(1) <= cfg_.max_len, "transformer: ids ", describe(ids), " from position ",
           start, " exceed model.max_len = ", cfg_.max_len);
  CG_CHECK(!(cache && key_mask.defined()), "transformer: a KV cache with a key mask is not supported");
  const int64_t B = ids.size(0), T = ids.size(1), C = cfg_.d_model, H = cfg_.heads, D = C / H;
  const bool drop = dropout_seed && cfg_.dropout > 0;
  // Site s (0: the embeddings, 2l + 1 and 2l + 2: layer l's branches) draws its own mask stream.
  auto dropped = [&](const Tensor& t, int64_t site) { return dropout(t, cfg_.dropout, random::stream(*dropout_seed, site, 13), 0); };
  // x + the branch's output: with nothing to drop, the residual is added in the linear's epilogue.
  auto residual = [&](const Tensor& in, const std::string& w, const Tensor& into, int64_t site) {
    if (!drop) return linear(in, weight(w + ".w"), weight(w + ".b"), into);
    return add(into, dropped(linear(in, weight(w + ".w"), weight(w + ".b")), site));
  };
  Tensor x = embedding(ids, param("wte"), positions(B, T, start, device_), param("wpe"), activation_dtype());
  if (drop) x = dropped(x, 0);
  auto heads = [&](const Tensor& qkv, int64_t part) {  // [B,T,3C] → part's [B,H,T,D]
    return qkv.slice(2, part * C, (part + 1) * C).reshape({B, T, H, D}).permute({0, 2, 1, 3});
  };
  for (int64_t l = 0; l < cfg_.layers; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    const Tensor qkv = linear(layernorm(x, weight(h + "ln1.g"), weight(h + "ln1.b")), weight(h + "attn.w"), weight(h + "attn.b"));
    Tensor q = heads(qkv, 0), k = heads(qkv, 1), v = heads(qkv, 2);
    if (cache) {
      Tensor kdst = cache->k[size_t(l)].slice(2, start, start + T), vdst = cache->v[size_t(l)].slice(2, start, start + T);
      copy_(kdst, k);
      copy_(vdst, v);
      k = cache->k[size_t(l)].slice(2, 0, start + T);
      v = cache->v[size_t(l)].slice(2, 0, start + T);
    }
    const Tensor a = attention(q, k, v, key_mask, causal).permute({0, 2, 1, 3}).reshape({B, T, C});
    x = residual(a, h + "proj", x, 2 * l + 1);
    const Tensor m = linear_gelu(layernorm(x, weight(h + "ln2.g"), weight(h + "ln2.b")), weight(h + "fc.w"), weight(h + "fc.b"));
    x = residual(m, h + "out", x, 2 * l + 2);
  }
  if (cache) cache->len += T;
  return layernorm(x, weight("lnf.g"), weight("lnf.b"));
}

}  // namespace coopgen
