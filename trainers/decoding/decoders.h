// The decoder a run or `coopgen sample` uses, chosen by the config's decoding section.
#pragma once
#include <string>

#include "trainers/decoding/beam.h"
#include "trainers/decoding/decoding.h"
#include "trainers/decoding/guided.h"
#include "trainers/decoding/mcts.h"
#include "trainers/decoding/rerank.h"

namespace coopgen {

// Which decoder `coopgen sample` uses and, for method gcn, which proposal q̂ the samples come from.
struct DecodingConfig {
  // sample (the sampling/proposal section) | mcts | das | guided | rerank
  std::string decoder = "sample";
  // GCN's weights on a cooperative decoder's output: importance (wᵢ ∝ p·D/q̂: MCTS with
  // visit_temperature > 0, guided, rerank with resampling) or uniform (SelfGAN: the output taken
  // as a sample of q).
  std::string weights = "uniform";
  MctsConfig mcts;
  DasConfig das;
  GuidedConfig guided;
  RerankConfig rerank;
  template <class V> void visit(V& v) {
    v.one_of("decoder", decoder, {"sample", "mcts", "das", "guided", "rerank"});
    v.one_of("weights", weights, {"importance", "uniform"});
    v("mcts", mcts);
    v("das", das);
    v("guided", guided);
    v("rerank", rerank);
  }
};

}  // namespace coopgen
