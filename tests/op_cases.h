// The registered op cases shared by the gradient checks (CPU, f64, against central finite
// differences) and the backend consistency tests (CUDA f32 against CPU f32). Sizes are small and
// odd on purpose: no dimension is a multiple of a tile or a warp.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace coopgen::testing {

// Sampler settings by value: temperature, top_k, top_p, mix, then min_p (engine/ops.h's SamplingConfig).
inline SamplingConfig sampling(double temperature, int64_t top_k = 0, double top_p = 1.0, double mix = 0.0,
                               double min_p = 0.0) {
  SamplingConfig s;
  s.temperature = temperature, s.top_k = top_k, s.top_p = top_p, s.mix = mix, s.min_p = min_p;
  return s;
}

enum class Kind {
  Real,      // uniform in [-1, 1), differentiable
  Logits,    // uniform in [-4, 4): outliers for softmax-like ops, differentiable
  Const,     // uniform in [-1, 1), no gradient
  Prob,      // uniform in [0, 1), no gradient (BCE targets)
  Positive,  // uniform in [0.5, 1.5), no gradient (weights)
  Mask,      // 0/1 with the first position of each row always 1, no gradient
  Tokens,    // i32 in [0, vocab), no gradient
};

struct Input {
  Shape shape;
  Kind kind = Kind::Real;
  int64_t vocab = 0;  // Tokens only
};

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
};

inline bool differentiable(Kind k) { return k == Kind::Real || k == Kind::Logits; }

// Deterministic inputs from the Philox stream, built on the CPU in `dtype`, then moved.
inline std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, Device device, uint64_t seed) {
  std::vector<Tensor> out;
  uint64_t offset = 0;
  for (const Input& in : c.inputs) {
    const int64_t n = shape_numel(in.shape);
    Tensor u = Tensor::uniform(in.shape, seed, offset, 0, 1, DType::F64);
    offset += uint64_t(n);
    std::vector<double> v = u.to_vector<double>();
    Tensor t;
    if (in.kind == Kind::Tokens) {
      std::vector<int32_t> ids(v.size());
      for (size_t k = 0; k < v.size(); ++k) ids[k] = int32_t(v[k] * double(in.vocab));
      t = Tensor::from(ids, in.shape);
    } else {
      const int64_t row = in.shape.empty() ? 1 : in.shape.back();
      for (size_t k = 0; k < v.size(); ++k) {
        switch (in.kind) {
          case Kind::Real: case Kind::Const: v[k] = 2 * v[k] - 1; break;
          case Kind::Logits: v[k] = 8 * v[k] - 4; break;
          case Kind::Prob: break;
          case Kind::Positive: v[k] += 0.5; break;
          case Kind::Mask: v[k] = (int64_t(k) % row == 0 || v[k] < 0.7) ? 1.0 : 0.0; break;
          case Kind::Tokens: break;
        }
      }
      t = Tensor::from(v, in.shape).to(dtype);
    }
    t = t.to(device);
    if (differentiable(in.kind)) t.requires_grad_();
    out.push_back(t);
  }
  return out;
}

inline std::vector<OpCase> op_cases() {
  using V = const std::vector<Tensor>&;
  const Input r35{{3, 5}}, r47{{4, 7}, Kind::Logits};
  return {
      {"add", {r35, r35}, [](V x) { return add(x[0], x[1]); }},
      {"sub", {r35, r35}, [](V x) { return sub(x[0], x[1]); }},
      {"mul", {r35, r35}, [](V x) { return mul(x[0], x[1]); }},
      {"scale", {r35}, [](V x) { return scale(x[0], -2.5); }},
      {"gelu", {r47}, [](V x) { return gelu(x[0]); }},
      {"sigmoid", {r47}, [](V x) { return sigmoid(x[0]); }},
      {"tanh", {r47}, [](V x) { return tanh(x[0]); }},
      {"bias_add", {{{2, 3, 5}}, {{5}}}, [](V x) { return bias_add(x[0], x[1]); }},
      {"matmul_weight", {{{2, 3, 5}}, {{5, 7}}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_weight_tb", {{{3, 5}}, {{7, 5}}}, [](V x) { return matmul(x[0], x[1], false, true); }},
      {"matmul_weight_ta", {{{5, 3}}, {{5, 7}}}, [](V x) { return matmul(x[0], x[1], true, false); }},
      {"matmul_batched", {{{2, 3, 5}}, {{2, 5, 4}}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_batched_ta_tb", {{{2, 5, 3}}, {{2, 4, 5}}}, [](V x) { return matmul(x[0], x[1], true, true); }},
      {"linear", {{{2, 3, 5}}, {{7, 5}}, {{7}}}, [](V x) { return linear(x[0], x[1], x[2]); }},
      {"linear_residual", {{{2, 3, 5}}, {{7, 5}}, {{7}}, {{2, 3, 7}}}, [](V x) { return linear(x[0], x[1], x[2], x[3]); }},
      {"linear_gelu", {{{2, 3, 5}}, {{7, 5}}, {{7}, Kind::Logits}}, [](V x) { return linear_gelu(x[0], x[1], x[2]); }},
      {"embedding", {{{2, 3}, Kind::Tokens, 7}, {{7, 5}}}, [](V x) { return embedding(x[0], x[1]); }},
      {"embedding_positions",  // positions repeat across rows: their gradient accumulates
       {{{2, 3}, Kind::Tokens, 7}, {{7, 5}}, {{2, 3}, Kind::Tokens, 4}, {{4, 5}}},
       [](V x) { return embedding(x[0], x[1], x[2], x[3], x[1].dtype()); }},
      {"layernorm", {{{3, 7}, Kind::Logits}, {{7}}, {{7}}}, [](V x) { return layernorm(x[0], x[1], x[2]); }},
      {"layernorm_rows",  // 11 rows: a full block of eight warps and a partial one; 45 > 32 columns per lane's stride
       {{{11, 45}, Kind::Logits}, {{45}}, {{45}}}, [](V x) { return layernorm(x[0], x[1], x[2]); }},
      {"softmax", {{{3, 2, 7}, Kind::Logits}}, [](V x) { return softmax(x[0]); }},
      {"attention_padded",
       {{{2, 2, 3, 4}}, {{2, 2, 5, 4}}, {{2, 2, 5, 4}}, {{2, 5}, Kind::Mask}},
       [](V x) { return attention(x[0], x[1], x[2], x[3], false); }},
      {"attention_causal", {{{2, 3, 5, 4}}, {{2, 3, 5, 4}}, {{2, 3, 5, 4}}},
       [](V x) { return attention(x[0], x[1], x[2], Tensor(), true); }},
      {"attention_causal_cached",  // 2 new queries against 5 cached keys, with padding
       {{{2, 2, 2, 4}}, {{2, 2, 5, 4}}, {{2, 2, 5, 4}}, {{2, 5}, Kind::Mask}},
       [](V x) { return attention(x[0], x[1], x[2], x[3], true); }},
      {"attention_tiles_causal",  // 37 queries and keys: two tiles of keys, three of queries
       {{{1, 2, 37, 5}}, {{1, 2, 37, 5}}, {{1, 2, 37, 5}}},
       [](V x) { return attention(x[0], x[1], x[2], Tensor(), true); }},
      {"attention_tiles_cached_padded",  // 3 new queries against 41 keys (a KV cache), with padding
       {{{2, 1, 3, 6}}, {{2, 1, 41, 6}}, {{2, 1, 41, 6}}, {{2, 41}, Kind::Mask}},
       [](V x) { return attention(x[0], x[1], x[2], x[3], true); }},
      {"masked_sum", {{{2, 4, 3}}, {{2, 4}, Kind::Mask}}, [](V x) { return masked_sum(x[0], x[1]); }},
      {"masked_mean", {{{2, 4, 3}}, {{2, 4}, Kind::Mask}}, [](V x) { return masked_mean(x[0], x[1]); }},
      {"sum", {r35}, [](V x) { return sum(x[0]); }},
      {"views", {{{3, 4, 5}}},
       [](V x) { return x[0].permute({2, 0, 1}).slice(1, 1, 3).transpose(0, 2).reshape({-1, 5}).contiguous(); }},
      {"weighted_logprob",
       {{{2, 3, 7}, Kind::Logits}, {{2, 3}, Kind::Tokens, 7}, {{2, 3}, Kind::Mask}, {{2}, Kind::Positive}},
       [](V x) { return weighted_logprob(x[0], x[1], x[2], x[3]); }},
      {"weighted_logprob_linear",  // 11 tokens in chunks of 4, 4, 3
       {{{2, 3, 5}, Kind::Logits}, {{11, 5}}, {{2, 3}, Kind::Tokens, 11}, {{2, 3}, Kind::Mask}, {{2}, Kind::Positive}},
       [](V x) { return weighted_logprob_linear(x[0], x[1], x[2], x[3], x[4], 4); }},
      {"weighted_logprob_linear_one_chunk",
       {{{5, 3}, Kind::Logits}, {{7, 3}}, {{5}, Kind::Tokens, 7}, {{5}, Kind::Mask}, {{5}, Kind::Positive}},
       [](V x) { return weighted_logprob_linear(x[0], x[1], x[2], x[3], x[4]); }},
      {"cross_entropy", {{{5, 7}, Kind::Logits}, {{5}, Kind::Tokens, 7}, {{5}, Kind::Mask}},
       [](V x) { return cross_entropy(x[0], x[1], x[2]); }},
      {"bce_with_logits", {{{6}, Kind::Logits}, {{6}, Kind::Prob}},
       [](V x) { return bce_with_logits(x[0], x[1]); }},
  };
}

}  // namespace coopgen::testing
