#include "models/gpt2.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "engine/io.h"
#include "engine/ops.h"

namespace coopgen {

namespace fs = std::filesystem;

namespace {

// Each block parameter's name in coopgen ("h.L." + suffix) and in transformers ("h.L." + suffix),
// and whether it is a Conv1D weight (stored transposed there).
struct BlockName {
  const char* ours;
  const char* theirs;
  bool conv1d;
};
constexpr BlockName kBlock[] = {
    {"ln1.g", "ln_1.weight", false},         {"ln1.b", "ln_1.bias", false},
    {"attn.w", "attn.c_attn.weight", true},  {"attn.b", "attn.c_attn.bias", false},
    {"proj.w", "attn.c_proj.weight", true},  {"proj.b", "attn.c_proj.bias", false},
    {"ln2.g", "ln_2.weight", false},         {"ln2.b", "ln_2.bias", false},
    {"fc.w", "mlp.c_fc.weight", true},       {"fc.b", "mlp.c_fc.bias", false},
    {"out.w", "mlp.c_proj.weight", true},    {"out.b", "mlp.c_proj.bias", false},
};
constexpr std::pair<const char*, const char*> kTop[] = {
    {"wte", "wte.weight"}, {"wpe", "wpe.weight"}, {"lnf.g", "ln_f.weight"}, {"lnf.b", "ln_f.bias"}};

// Our name (without prefix) → (their name without "transformer.", transposed?).
std::pair<std::string, bool> their_name(const std::string& ours) {
  for (const auto& [a, b] : kTop)
    if (ours == a) return {b, false};
  if (ours.rfind("h.", 0) == 0) {
    const size_t dot = ours.find('.', 2);
    const std::string layer = ours.substr(0, dot + 1), rest = ours.substr(dot + 1);
    for (const BlockName& n : kBlock)
      if (rest == n.ours) return {layer + n.theirs, n.conv1d};
  }
  return {"", false};
}

Tensor transposed(const Tensor& t) { return t.transpose(0, 1).contiguous(); }

}  // namespace

Gpt2Shape read_gpt2_config(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  return parse_gpt2_config(read_file(path), path);
}

Gpt2Shape parse_gpt2_config(const std::string& json, const std::string& path) {
  const Json::Value c = parse_json(json, path);
  // A size under any of its spellings, bounded as a config's (models/transformer.h).
  auto count = [&](std::initializer_list<const char*> keys, int64_t least, int64_t most) -> int64_t {
    for (const char* k : keys)
      if (c.isMember(k)) {
        if (!c[k].isUInt64() || c[k].asUInt64() < uint64_t(least) || c[k].asUInt64() > uint64_t(most))
          fail(path, ": ", k, " = ", json_text(c[k]).substr(0, 40), ": expected a whole number from ", least, " to ", most);
        return int64_t(c[k].asUInt64());
      }
    fail(path, ": ", *keys.begin(), " is missing");
  };
  // Fields whose other values coopgen's block does not compute: each must be absent or this.
  auto must = [&](const char* key, const Json::Value& want, const char* why) {
    if (c.isMember(key) && !(c[key] == want)) fail(path, ": ", key, " = ", json_text(c[key]).substr(0, 40), " (", why, ")");
  };
  if (c.isMember("model_type") && c["model_type"] != "gpt2") fail(path, ": model_type ", json_text(c["model_type"]).substr(0, 40), " is not gpt2");
  must("activation_function", "gelu_new", "coopgen's MLP has GPT-2's tanh GELU, gelu_new");
  must("scale_attn_weights", true, "coopgen scales attention by 1/sqrt(head dim)");
  must("scale_attn_by_inverse_layer_idx", false, "not in coopgen's attention");
  must("reorder_and_upcast_attn", false, "not in coopgen's attention");
  must("add_cross_attention", false, "coopgen's block has no cross-attention");
  must("tie_word_embeddings", true, "coopgen's output layer is the token embedding");
  if (c.isMember("layer_norm_epsilon") && !(c["layer_norm_epsilon"].isNumeric() && std::fabs(c["layer_norm_epsilon"].asDouble() - 1e-5) < 1e-12))
    fail(path, ": layer_norm_epsilon must be 1e-05 (coopgen's LayerNorm)");
  Gpt2Shape s;
  s.model.d_model = count({"n_embd", "hidden_size"}, 1, kMaxDModel);
  s.model.layers = count({"n_layer", "num_hidden_layers"}, 1, kMaxLayers);
  s.model.heads = count({"n_head", "num_attention_heads"}, 1, kMaxHeads);
  s.model.max_len = count({"n_positions", "max_position_embeddings", "n_ctx"}, 2, kMaxPositions);
  s.vocab = count({"vocab_size"}, 1, kMaxVocab);
  if (c.isMember("n_inner") && !c["n_inner"].isNull() && !(c["n_inner"].isUInt64() && int64_t(c["n_inner"].asUInt64()) == 4 * s.model.d_model))
    fail(path, ": n_inner must be null or 4·n_embd (coopgen's MLP)");
  if (s.model.d_model % s.model.heads != 0) fail(path, ": n_embd (", s.model.d_model, ") is not a multiple of n_head (", s.model.heads, ")");
  return s;
}

void load_gpt2_weights(NamedTensors& params, const std::string& prefix, const std::string& dir) {
  const std::string file = (fs::path(dir) / "model.safetensors").string();
  std::map<std::string, Tensor> theirs;
  std::map<std::string, std::string> spelled;  // key → the file's name for it
  for (auto& [name, t] : load_safetensors(file)) {  // "transformer." is optional (GPT2Model files)
    const std::string key = name.rfind("transformer.", 0) == 0 ? name.substr(12) : name;
    if (auto [at, fresh] = spelled.emplace(key, name); !fresh)
      fail(file, ": tensors '", at->second, "' and '", name, "' are two spellings of one weight (which is meant?)");
    theirs[key] = t;
  }
  std::set<std::string> used;
  for (auto& [name, p] : params) {
    if (name.rfind(prefix, 0) != 0 || name.rfind(prefix + "head.", 0) == 0) continue;  // a discriminator's head stays fresh
    const auto [key, conv1d] = their_name(name.substr(prefix.size()));
    if (key.empty()) fail(file, ": coopgen's parameter ", name, " has no GPT-2 counterpart");
    auto it = theirs.find(key);
    if (it == theirs.end()) fail(file, ": tensor '", key, "' is missing");
    check_finite(it->second, file, key);
    const Tensor t = conv1d ? transposed(it->second) : it->second;
    if (t.shape() != p.shape())
      fail(file, ": tensor '", key, "' is ", shape_str(it->second.shape()), conv1d ? " (Conv1D, [in, out])" : "",
           "; the model needs ", shape_str(p.shape()), conv1d ? " transposed" : "",
           key == "wte.weight" ? " (the vocabulary: data.tokenizer must be the checkpoint's)" : "");
    NoGradGuard no_grad;
    copy_(p, t.to(p.dtype()).to(p.device()));
    used.insert(key);
  }
  // The same checks for the generator and for a discriminator's body: the folder is one GPT-2.
  if (auto head = theirs.find("lm_head.weight"); head != theirs.end()) {
    const std::vector<float> a = head->second.to(DType::F32).to_vector<float>(), b = theirs.at("wte.weight").to(DType::F32).to_vector<float>();
    if (a != b) fail(file, ": lm_head.weight differs from wte.weight (an untied head, which coopgen cannot represent)");
    used.insert("lm_head.weight");
  }
  for (const auto& [name, t] : theirs) {
    const bool buffer = name.size() > 5 && (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"));
    if (!used.count(name) && !buffer) fail(file, ": tensor '", spelled.at(name), "' is not part of a GPT-2 coopgen can represent");
  }
}

void export_gpt2(const NamedTensors& params, const TransformerConfig& model, int64_t vocab, int64_t bos, int64_t eos,
                 const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir, ": cannot create the folder (", ec.message(), ")");
  NamedTensors out;
  for (const auto& [name, p] : params) {
    const auto [key, conv1d] = their_name(name);
    if (key.empty()) fail("export: parameter ", name, " has no GPT-2 counterpart (a generator's checkpoint is needed)");
    out.emplace_back("transformer." + key, conv1d ? transposed(p.detach().to(DType::F32)) : p.detach().to(DType::F32));
  }
  save_safetensors((fs::path(dir) / "model.safetensors").string(), out, {{"format", "pt"}});
  auto token = [](int64_t id) { return id < 0 ? std::string("null") : std::to_string(id); };
  // Dropout 0: the model was trained without it (coopgen has none).
  JsonWriter config;
  config.json("architectures", "[\"GPT2LMHeadModel\"]").string("model_type", "gpt2").string("activation_function", "gelu_new");
  config.number("n_embd", double(model.d_model)).number("n_layer", double(model.layers)).number("n_head", double(model.heads));
  config.number("n_positions", double(model.max_len)).number("n_ctx", double(model.max_len)).json("n_inner", "null");
  config.number("vocab_size", double(vocab)).json("bos_token_id", token(bos)).json("eos_token_id", token(eos));
  config.json("layer_norm_epsilon", "1e-05").json("scale_attn_weights", "true").json("tie_word_embeddings", "true");
  config.json("resid_pdrop", "0.0").json("embd_pdrop", "0.0").json("attn_pdrop", "0.0").json("use_cache", "true");
  atomic_write((fs::path(dir) / "config.json").string(), config.lines());
}

}  // namespace coopgen
