// GPT-2 checkpoints in the Hugging Face transformers layout (a folder with config.json and
// model.safetensors), into and out of coopgen's transformer, which is GPT-2's block: pre-LayerNorm,
// learned positions, tanh GELU ("gelu_new"), attention scaled by 1/√d, tied token embeddings.
// The mapping, per layer l (HF's Conv1D stores W as [in, out], coopgen's linear as [out, in]):
//   transformer.wte.weight / wpe.weight       → wte / wpe
//   transformer.h.l.ln_1.{weight,bias}         → h.l.ln1.{g,b}       (ln_2 → ln2)
//   transformer.h.l.attn.c_attn.{weight,bias}  → h.l.attn.{w,b}      (w transposed; q, k, v in that order)
//   transformer.h.l.attn.c_proj.*              → h.l.proj.*          (transposed)
//   transformer.h.l.mlp.c_fc.* / mlp.c_proj.*  → h.l.fc.* / h.l.out.* (transposed)
//   transformer.ln_f.*                         → lnf.*
// lm_head.weight is the token embedding (tied); keys without the "transformer." prefix (GPT2Model
// files) are read too, and the attention-mask buffers of old files are ignored.
#pragma once
#include <string>

#include "engine/optim.h"
#include "models/generator.h"

namespace coopgen {

// The transformer of DIR's config.json: d_model n_embd, layers n_layer, heads n_head, max_len
// n_positions, and its vocab_size. A config coopgen cannot represent exactly (another activation
// than gelu_new, layer_norm_epsilon ≠ 1e-5, an untied head, scale_attn_by_inverse_layer_idx,
// reorder_and_upcast_attn, cross-attention, n_inner ≠ 4·n_embd, unscaled attention) is an error
// naming the field.
struct Gpt2Shape {
  TransformerConfig model;
  int64_t vocab = 0;
};
Gpt2Shape read_gpt2_config(const std::string& dir);
// The same from config.json's text; `path` starts every error message.
Gpt2Shape parse_gpt2_config(const std::string& json, const std::string& path);

// `cfg` with its transformer's shape taken from DIR when `init` is hf_gpt2:DIR (other keys kept).
template <class Cfg> Cfg with_gpt2_shape(Cfg cfg, const CheckpointRef& init) {
  if (init.format != CheckpointRef::Format::hf_gpt2) return cfg;
  const Gpt2Shape s = read_gpt2_config(init.dir);
  cfg.d_model = s.model.d_model, cfg.layers = s.model.layers, cfg.heads = s.model.heads, cfg.max_len = s.model.max_len;
  return cfg;
}

// Copies DIR's weights into a transformer's parameters named "<prefix>wte", "<prefix>h.0.attn.w", …
// (the generator's: prefix ""; the discriminator's body: "disc."). Every parameter of that prefix
// must be found with its shape; errors name the folder and tensor.
void load_gpt2_weights(NamedTensors& params, const std::string& prefix, const std::string& dir);

// Writes a generator's parameters as a transformers GPT-2 folder (config.json, model.safetensors)
// that GPT2LMHeadModel.from_pretrained loads without missing or unexpected weights; bos_token_id
// and eos_token_id are the task's start and end tokens (−1: null). Atomic per file.
void export_gpt2(const NamedTensors& params, const TransformerConfig& model, int64_t vocab, int64_t bos, int64_t eos,
                 const std::string& dir);

}  // namespace coopgen
