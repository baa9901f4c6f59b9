// The decoders (decoding.decoder): the registry a run, `coopgen sample` / `eval` and the config's
// list of known decoders read, and the config section with each decoder's settings. A decoder is
// one file defining `DecoderKind decoder_<name>()` and one line in decoders.def (plus a section
// below if it has settings); tests and plugins add decoders at run time with register_decoder.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "trainers/decoding/beam.h"
#include "trainers/decoding/decoding.h"
#include "trainers/decoding/guided.h"
#include "trainers/decoding/mcts.h"
#include "trainers/decoding/rerank.h"

namespace coopgen {

std::vector<std::string> decoder_names();

// GCN's weights on a cooperative decoder's output: importance (wᵢ ∝ p·D/q̂: MCTS with
// visit_temperature > 0, guided, rerank with resampling) or uniform (SelfGAN: the output taken as a
// sample of q).
enum class DecodeWeights { importance, uniform };
constexpr std::array<const char*, 2> config_names(DecodeWeights) { return {"importance", "uniform"}; }

// Which decoder `coopgen sample` uses and, for method gcn, which proposal q̂ the samples come from.
struct DecodingConfig {
  // sample (the sampling/proposal section) or a cooperative decoder: mcts | das | guided | rerank
  // (decoders.def)
  std::string decoder = "sample";
  DecodeWeights weights = DecodeWeights::uniform;
  MctsConfig mcts;
  DasConfig das;
  GuidedConfig guided;
  RerankConfig rerank;
  template <class V> void visit(V& v) {
    v.one_of("decoder", decoder, decoder_names());
    v("weights", weights);
    v("mcts", mcts);
    v("das", das);
    v("guided", guided);
    v("rerank", rerank);
  }
};

// One decode: up to `length` tokens after each of `prompts` (context-major rows, continuations
// only), each sequence ending at its first `eos` (−1: fixed length), random numbers from Philox
// `seed`. `proposal` is the sampler's q̂ (the sampling or adversarial.proposal section), `d` the
// discriminator (empty for a decoder that needs none).
struct DecodeCall {
  const Generator& g;
  const PrefixScorer& d;
  const Prompts& prompts;
  int64_t length;
  const SamplingConfig& proposal;
  const DecodingConfig& dec;
  uint64_t seed;
  int32_t eos;
};

struct DecoderKind {
  std::string name;   // decoding.decoder
  std::string about;  // one line (help, docs)
  // A cooperative decoder: guided by the discriminator (`coopgen sample` then needs one), and a
  // proposal of method gcn only.
  bool cooperative = false;
  std::function<SampledSet(const DecodeCall&)> decode;
  // As GCN's proposal (method gcn with this decoder): what the settings and decoding.weights must
  // be (e.g. importance weights need q̂(y)); empty: anything goes.
  std::function<void(const DecodingConfig&)> check_proposal;
};

// Every decoder, built-in (decoders.def) first, then those registered, in order.
const std::vector<DecoderKind>& decoders();
// The decoder called `name`; an unknown one is an error naming `key` and the known ones.
const DecoderKind& decoder_named(const std::string& name, const std::string& key = "decoding.decoder");
// Adds a decoder; a name already known is an error. Call before a config naming it is read.
void register_decoder(DecoderKind kind);

}  // namespace coopgen
