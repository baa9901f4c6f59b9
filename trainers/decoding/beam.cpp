// Discriminator-guided beam search (trainers/decoding/beam.h): the beams of every row advance
// together, one generator step for all beams and one discriminator call over every candidate.
#include "trainers/decoding/decoders.h"
#include "trainers/decoding/beam.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "engine/logspace.h"

namespace coopgen {

namespace {

struct Beam {
  std::vector<int32_t> seq;
  double logp = 0;          // Σ log p of seq
  double score = kNegInf;   // log p + λ log D(seq); −∞: an empty slot
  bool done = false;
};

struct Candidate {
  int32_t parent;  // beam index
  int32_t token;   // −1: the parent, finished, carried over unchanged
  double logp, score;
};

}  // namespace

SampledSet das_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                         const DasConfig& cfg, uint64_t seed, int32_t eos, int64_t batch) {
  CG_CHECK(cfg.beams >= 1 && cfg.candidates >= 1, "decoding.das: beams (", cfg.beams, ") and candidates (",
           cfg.candidates, ") must be at least 1");
  NoGradGuard no_grad;
  const int64_t V = g.vocab(), K = cfg.beams;
  const size_t n = size_t(prompts.rows());
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (const RowGroup& group : group_rows(prompts, length, g.config().max_len, batch)) {
    const int64_t b = int64_t(group.rows.size()), R = b * K;
    std::vector<std::vector<Beam>> beams(static_cast<size_t>(b), std::vector<Beam>(static_cast<size_t>(K)));
    for (auto& row : beams) row[0].score = 0;  // one live beam at the start
    RowGroup cache_rows{std::vector<size_t>(size_t(R)), {}, group.length};  // row r's context K times: one cache row per beam
    for (const auto* c : group.contexts) cache_rows.contexts.insert(cache_rows.contexts.end(), size_t(K), c);
    Generator::Cache cache = g.new_cache(R);
    Tensor logits = prefill(g, cache_rows, prompts.start_token, cache);
    std::vector<int32_t> prev(static_cast<size_t>(R), prompts.start_token);
    const int64_t C = std::min(cfg.candidates, V), width = 2 * C + 2;
    for (int64_t t = 0; t < group.length; ++t) {
      if (t > 0) logits = g.step(Tensor::from(prev, {R}, g.device()), cache);
      // Each beam's candidates where the logits are: the C largest, or C drawn without replacement
      // (Gumbel-top-k; beam row n's noise at element n·V + v of the step's Philox offset), with
      // their logits and log Σ exp(logits): log p(v) = logit(v) − log Σ exp, so only C per beam cross.
      const GumbelDraw draw{seed, group.offset(t) * uint64_t(K * V)};
      const std::vector<float> picks = filter_rows(logits, C, 1.0, "das", t, cfg.sample ? &draw : nullptr);
      std::vector<std::vector<Candidate>> cands(static_cast<size_t>(b));
      Sequences prefixes;
      std::vector<std::pair<size_t, size_t>> scored;  // (row, candidate) of each prefix
      for (size_t r = 0; r < size_t(b); ++r)
        for (int32_t k = 0; k < int32_t(K); ++k) {
          const Beam& beam = beams[r][size_t(k)];
          if (beam.score == kNegInf) continue;
          if (beam.done) {
            cands[r].push_back({k, -1, beam.logp, beam.score});
            continue;
          }
          const float* row = picks.data() + (int64_t(r) * K + k) * width;  // logits, ids, log Σ exp
          for (int64_t j = 0; j < C; ++j) {
            const int32_t tok = int32_t(row[C + j]);
            const double cum = beam.logp + (double(row[j]) - double(row[2 * C]));
            cands[r].push_back({k, tok, cum, cum});
            if (cfg.lambda != 0) {
              std::vector<int32_t> prefix = *group.contexts[r];
              prefix.insert(prefix.end(), beam.seq.begin(), beam.seq.end());
              prefix.push_back(tok);
              prefixes.push_back(std::move(prefix));
              scored.emplace_back(r, cands[r].size() - 1);
            }
          }
        }
      if (!prefixes.empty()) {
        const std::vector<double> x = d(prefixes);
        for (size_t j = 0; j < scored.size(); ++j) cands[scored[j].first][scored[j].second].score += cfg.lambda * log_sigmoid(x[j]);
      }
      std::vector<int32_t> parents(static_cast<size_t>(R));
      for (size_t r = 0; r < size_t(b); ++r) {
        auto& c = cands[r];
        std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& z) { return a.score > z.score; });
        std::vector<Beam> next(static_cast<size_t>(K));
        for (size_t k = 0; k < size_t(K); ++k) {
          const size_t row = r * size_t(K) + k;
          parents[row] = int32_t(row);
          prev[row] = prompts.start_token;
          if (k >= c.size()) continue;
          const Beam& from = beams[r][size_t(c[k].parent)];
          Beam& to = next[k];
          to.seq = from.seq, to.logp = c[k].logp, to.score = c[k].score, to.done = from.done;
          parents[row] = int32_t(r * size_t(K)) + c[k].parent;
          if (c[k].token >= 0) {
            to.seq.push_back(c[k].token);
            to.done = c[k].token == eos || int64_t(to.seq.size()) >= group.length;
            prev[row] = c[k].token;
          }
        }
        beams[r] = std::move(next);
      }
      g.gather_cache_rows(cache, parents);
      bool open = false;
      for (const auto& row : beams)
        for (const Beam& beam : row) open |= beam.score > kNegInf && !beam.done;
      if (!open) break;
    }
    for (size_t r = 0; r < size_t(b); ++r) {  // beams are kept best first
      out.seqs[group.rows[r]] = std::move(beams[r][0].seq);
      out.logp[group.rows[r]] = beams[r][0].logp;
    }
  }
  return out;
}

DecoderKind decoder_das() {
  return {"das", "discriminator-guided beam search (decoding.das)", true,
          [](const DecodeCall& c) { return das_sequences(c.g, c.d, c.prompts, c.length, c.dec.das, c.seed, c.eos); },
          [](const DecodingConfig& dec) {
            if (!dec.das.sample)
              fail("decoding.das.sample is false: a beam search from one start token gives all M samples the same sequence; "
                   "set decoding.das.sample: true");
            if (dec.weights == DecodeWeights::importance)
              fail("decoding.weights importance needs q̂(y), which a beam search has not: use decoding.weights uniform with das");
          }};
}

}  // namespace coopgen
