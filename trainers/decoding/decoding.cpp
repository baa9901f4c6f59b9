#include "trainers/decoding/decoders.h"
#include "trainers/decoding/decoding.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

namespace coopgen {

std::vector<float> filter_rows(const Tensor& logits, int64_t k, double temperature, const char* decoder, int64_t step,
                               const GumbelDraw* gumbel) {
  const int64_t V = logits.size(-1), kk = std::min(k, V), width = 2 * kk + 2;
  const Tensor z = logits.reshape({-1, V}), where = 8 * kk <= V ? z : z.to(Device::CPU);
  const std::vector<float> rows = gumbel ? gumbel_top_k(where, kk, gumbel->seed, gumbel->offset).to_vector<float>()
                                         : top_k_logits(where, kk, temperature).to_vector<float>();
  for (size_t r = 0; r < rows.size() / size_t(width); ++r)
    if (std::isnan(rows[r * size_t(width) + size_t(2 * kk)])) fail_undefined_logits(decoder, r, step);
  return rows;
}

PathBatch batch_paths(const std::vector<std::vector<int32_t>>& paths, const std::vector<size_t>& rows, int32_t pad,
                      Device device) {
  size_t depth = 1;
  for (size_t r : rows) depth = std::max(depth, paths[r].size());
  std::vector<int32_t> ids(paths.size() * depth, pad), last(paths.size(), 0);
  for (size_t r : rows) {
    std::copy(paths[r].begin(), paths[r].end(), ids.begin() + long(r * depth));
    last[r] = int32_t(paths[r].size()) - 1;
  }
  return {Tensor::from(ids, {int64_t(paths.size()), int64_t(depth)}, device), std::move(last)};
}

namespace {

class LearnedPrefixCache : public PrefixCache {
 public:
  LearnedPrefixCache(const TransformerDiscriminator& d, const std::vector<const std::vector<int32_t>*>& contexts, int32_t pad,
                     Device device)
      : cache_(d, int64_t(contexts.size())), rows_(contexts.size()), pad_(pad), device_(device) {
    const size_t len = contexts.empty() ? 0 : contexts[0]->size();
    if (len == 0) return;
    std::vector<int32_t> ids;
    for (const auto* c : contexts) {
      CG_CHECK(c->size() == len, "prefix cache: contexts of ", len, " and ", c->size(), " tokens in one group");
      ids.insert(ids.end(), c->begin(), c->end());
    }
    cache_.commit(Tensor::from(ids, {int64_t(rows_), int64_t(len)}, device_));
  }
  std::vector<double> score(const std::vector<std::vector<int32_t>>& paths, const std::vector<size_t>& rows) override {
    const PathBatch batch = batch_paths(paths, rows, pad_, device_);
    const std::vector<double> all = cache_.score(batch.ids, batch.last);
    std::vector<double> out;
    for (size_t r : rows) out.push_back(all[r]);
    return out;
  }
  std::vector<double> score_next(const std::vector<std::vector<int32_t>>& cand) override {
    CG_CHECK(cand.size() == rows_, "prefix cache: candidates for ", cand.size(), " rows, ", rows_, " cached");
    std::vector<size_t> asked;
    for (size_t r = 0; r < cand.size(); ++r)
      if (!cand[r].empty()) asked.push_back(r);
    std::vector<double> out;
    if (asked.empty()) return out;
    // [rows, K]: rows with fewer candidates padded, their scores dropped.
    const Tensor ids = batch_paths(cand, asked, pad_, device_).ids;
    const size_t K = size_t(ids.size(1));
    const std::vector<double> all = cache_.score_next(ids);
    for (size_t r : asked) out.insert(out.end(), all.begin() + long(r * K), all.begin() + long(r * K + cand[r].size()));
    return out;
  }
  void commit(const std::vector<int32_t>& tokens) override {
    cache_.commit(Tensor::from(tokens, {int64_t(rows_), 1}, device_));
  }

 private:
  DiscriminatorPrefixCache cache_;
  size_t rows_;
  int32_t pad_;
  Device device_;
};

}  // namespace

PrefixScorer learned_scorer(const TransformerDiscriminator& d, int32_t pad, Device device) {
  PrefixScorer s = [&d, pad, device](const Sequences& seqs) { return discriminator_logits(d, seqs, pad, device); };
  if (d.causal())
    s.cached = [&d, pad, device](const std::vector<const std::vector<int32_t>*>& contexts) {
      return std::make_unique<LearnedPrefixCache>(d, contexts, pad, device);
    };
  return s;
}

std::string undefined_logits_message(const char* decoder, const std::string& rows, int64_t step) {
  return cat("decoding (", decoder, "): the generator's logits of ", rows, " at token step ", step + 1,
             " are not finite (NaN or +inf, or every token impossible): its weights or activations have overflowed");
}

void fail_undefined_logits(const char* decoder, size_t row, int64_t step) {
  fail(undefined_logits_message(decoder, cat("row ", row), step));
}

void check_logits(const std::vector<float>& logits, int64_t V, const char* decoder, int64_t step) {
  for (size_t r = 0; r < logits.size() / size_t(V); ++r) {
    float top = -INFINITY;
    for (int64_t v = 0; v < V; ++v) {
      const float z = logits[r * size_t(V) + size_t(v)];
      if (std::isnan(z) || z == INFINITY) fail_undefined_logits(decoder, r, step);
      top = std::max(top, z);
    }
    if (top == -INFINITY) fail_undefined_logits(decoder, r, step);
  }
}

std::vector<RowGroup> group_rows(const Prompts& prompts, int64_t length, int64_t max_len, int64_t batch) {
  CG_CHECK(batch >= 1 && prompts.per_context >= 0, "decoding: batch ", batch, ", ", prompts.per_context, " per context");
  std::map<size_t, std::vector<size_t>> by_length;  // context length → context indices
  for (size_t i = 0; i < prompts.contexts.size(); ++i) by_length[prompts.contexts[i].size()].push_back(i);
  std::vector<RowGroup> groups;
  for (const auto& [context_length, indices] : by_length) {
    const int64_t room = std::min<int64_t>(length, max_len - 1 - int64_t(context_length));
    if (room < 1)
      fail("decoding: a context of ", context_length, " tokens leaves no room to generate within model.max_len = ", max_len);
    RowGroup group{{}, {}, room};
    for (size_t i : indices)
      for (int64_t k = 0; k < prompts.per_context; ++k) {
        group.rows.push_back(i * size_t(prompts.per_context) + size_t(k));
        group.contexts.push_back(&prompts.contexts[i]);
        if (int64_t(group.rows.size()) == batch) groups.push_back(std::move(group)), group = {{}, {}, room};
      }
    if (!group.rows.empty()) groups.push_back(std::move(group));
  }
  // Stream rows: each group from where the previous one ended, rounded up to a multiple of 4 (a
  // Philox counter holds 4 rows), starting at this shard's first row of the whole draw.
  CG_CHECK(prompts.first_row % 4 == 0, "decoding: a shard starting at row ", prompts.first_row,
           " (rows per rank must be a multiple of 4)");
  uint64_t at = uint64_t(prompts.first_row);
  for (RowGroup& g : groups) g.stream_row = at, at += (g.rows.size() + 3) / 4 * 4;
  const uint64_t total = prompts.stream_rows > 0 ? uint64_t(prompts.stream_rows) : at;
  for (RowGroup& g : groups) g.stream_stride = (total + 3) / 4;
  return groups;
}

Tensor prefill(const Generator& g, const RowGroup& group, int32_t start_token, Generator::Cache& cache) {
  const int64_t B = int64_t(group.rows.size()), P = 1 + int64_t(group.contexts[0]->size());
  std::vector<int32_t> ids;
  for (const auto* c : group.contexts) {
    ids.push_back(start_token);
    ids.insert(ids.end(), c->begin(), c->end());
  }
  const Tensor logits = g.lookahead(Tensor::from(ids, {B, P}, g.device()), std::vector<int32_t>(size_t(B), int32_t(P - 1)), cache);
  cache.len += P;  // the prompt's keys and values stay
  return logits;
}

namespace {

// Log p, log q̂ and the token (as f32: exact below 2^24) of step t's draw into record[t] [3, b].
void record_step(Tensor& record, int64_t t, const Samples& s) {
  const int64_t b = s.tokens.size(0);
  for (auto [k, x] : {std::pair{0, s.logp}, {1, s.logq}, {2, s.tokens.to(DType::F32)}}) {
    Tensor row = record.slice(0, t, t + 1).slice(1, k, k + 1);  // a view: reshape it and the copy lands elsewhere
    copy_(row, x.reshape({1, 1, b}));
  }
}

// What a decode graph bakes in as kernel arguments and addresses, and so what tells its graphs
// apart: the rows, the context length (the positions and cache lengths of every step), the steps,
// the Philox stride between steps, the sampler's settings, and the weights' addresses. The seed
// and the group's Philox row are read from memory at each replay.
std::vector<int64_t> graph_key(const Generator& g, const RowGroup& group, const SamplingConfig& cfg) {
  std::vector<int64_t> key{int64_t(group.rows.size()), int64_t(group.contexts[0]->size()), group.length,
                           int64_t(group.stream_stride)};
  for (const int64_t word : cfg.key()) key.push_back(word);
  for (const auto& [name, p] : g.params()) key.push_back(std::bit_cast<int64_t>(p.raw_data()));
  return key;
}

// One group's decode on CUDA through a CUDA graph: the prefill runs as usual into the graphs' KV
// cache, then one replay draws every token step — the draw, the check that it is a token, the
// record, the generator's step — and the record comes back in one copy. The graph runs all
// `length` steps (rows past their eos draw tokens the caller drops); a row without a distribution
// fails at that copy, naming the step, even past its eos (the eager loop would fail there too,
// at its next step's embedding, unless every row had ended).
std::vector<float> graph_decode(const Generator& g, const RowGroup& group, int32_t start_token, const SamplingConfig& cfg,
                                uint64_t seed) {
  using Graphs = Generator::DecodeGraphs;
  auto& graphs = g.decode_graphs();
  if (!graphs) graphs = std::make_shared<Graphs>();
  const int64_t b = int64_t(group.rows.size()), V = g.vocab();
  if (!graphs->inputs || graphs->inputs->rows < b) {  // larger inputs: the graphs on the old ones go first
    graphs->entries.clear();
    graphs->inputs.reset();
    graphs->inputs = std::make_shared<Graphs::Inputs>(Graphs::Inputs{
        b, g.new_cache(b), Tensor::empty({b, V}, DType::F32, g.device()), Tensor::empty({4}, DType::I32, g.device())});
  }
  const std::shared_ptr<Graphs::Inputs> in = graphs->inputs;
  Generator::Cache cache;  // the first b rows of the shared cache
  for (size_t l = 0; l < in->cache.k.size(); ++l)
    cache.k.push_back(in->cache.k[l].slice(0, 0, b)), cache.v.push_back(in->cache.v[l].slice(0, 0, b));
  Tensor logits = in->logits.slice(0, 0, b);
  const std::vector<int64_t> key = graph_key(g, group, cfg);
  auto it = std::find_if(graphs->entries.begin(), graphs->entries.end(), [&](const auto& e) { return e.key == key; });
  if (it == graphs->entries.end()) {
    Graphs::Entry e{key, in, Tensor::empty({group.length, 3, b}, DType::F32, g.device()), nullptr};
    cache.len = 1 + int64_t(group.contexts[0]->size());  // where the prefill leaves it
    e.graph = std::make_unique<device::Graph>([&] {
      Tensor z = logits;
      for (int64_t t = 0; t < group.length; ++t) {
        const Samples s = sample_logits(z, cfg, in->stream, uint64_t(t) * group.stream_stride);
        check_token_range(s.tokens, V, [t](int64_t rows) {
          return undefined_logits_message("sample", cat(rows, " row(s)"), t);
        });
        record_step(e.record, t, s);
        if (t + 1 < group.length) z = g.step(s.tokens, cache);
      }
    });
    if (graphs->entries.size() == Graphs::kMax) graphs->entries.pop_front();
    graphs->entries.push_back(std::move(e));
    it = graphs->entries.end() - 1;
  }
  cache.len = 0;
  copy_(logits, prefill(g, group, start_token, cache));
  copy_(in->stream, Tensor::from(philox_words(seed, group.offset(0)), {4}, g.device()));
  it->graph->launch();
  return it->record.to_vector<float>();
}

}  // namespace

SampledSet sample_sequences(const Generator& g, const Prompts& prompts, int64_t length, const SamplingConfig& cfg,
                            uint64_t seed, int32_t eos, int64_t batch) {
  NoGradGuard no_grad;
  const size_t n = size_t(prompts.rows());
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  const bool graphs = g.device() == Device::CUDA && g.config().decode_graphs;
  for (const RowGroup& group : group_rows(prompts, length, g.config().max_len, batch)) {
    const size_t b = group.rows.size();
    // Per step, log p, log q̂ and the token stay on the device until the group ends: a step waits
    // for the device only to read the tokens that decide which rows go on (eager), and the
    // last step not even for that; a graph's replay waits once for all of them.
    std::vector<float> rec;
    int64_t steps = group.length;
    if (graphs) {
      rec = graph_decode(g, group, prompts.start_token, cfg, seed);
    } else {
      Generator::Cache cache = g.new_cache(int64_t(b));
      Tensor logits = prefill(g, group, prompts.start_token, cache);
      Tensor record = Tensor::empty({group.length, 3, int64_t(b)}, DType::F32, g.device());
      std::vector<bool> open(b, true);
      for (int64_t t = 0; t < group.length; ++t) {
        const Samples s = sample_logits(logits, cfg, seed, group.offset(t));
        record_step(record, t, s);
        if (t + 1 == group.length) break;
        const std::vector<int32_t> tok = s.tokens.to_vector<int32_t>();
        for (size_t r = 0; r < b; ++r) {
          if (open[r] && tok[r] < 0) fail_undefined_logits("sample", group.rows[r], t);  // the sampler's mark
          if (tok[r] == eos) open[r] = false;
        }
        if (std::find(open.begin(), open.end(), true) == open.end()) {
          steps = t + 1;
          break;
        }
        logits = g.step(s.tokens, cache);
      }
      rec = record.slice(0, 0, steps).to_vector<float>();
    }
    // Each row's tokens up to and including its first eos, and their log p and log q̂.
    for (size_t r = 0; r < b; ++r) {
      const size_t row = group.rows[r];
      for (int64_t t = 0; t < steps; ++t) {
        const float* at = rec.data() + size_t(t) * 3 * b;
        const int32_t y = int32_t(at[2 * b + r]);
        if (y < 0) fail_undefined_logits("sample", row, t);
        out.seqs[row].push_back(y);
        out.logp[row] += double(at[r]), out.logq[row] += double(at[b + r]);
        if (y == eos) break;
      }
    }
  }
  return out;
}

DecoderKind decoder_sample() {
  return {"sample", "ancestral sampling from the proposal q̂ (the sampling or adversarial.proposal section)", false,
          [](const DecodeCall& c) { return sample_sequences(c.g, c.prompts, c.length, c.proposal, c.seed, c.eos); }, nullptr};
}

}  // namespace coopgen
