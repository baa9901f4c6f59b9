#include "trainers/decoding/decoding.h"

#include <algorithm>
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
  LearnedPrefixCache(const Discriminator& d, const std::vector<const std::vector<int32_t>*>& contexts, int32_t pad,
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

PrefixScorer learned_scorer(const Discriminator& d, int32_t pad, Device device) {
  PrefixScorer s = [&d, pad, device](const Sequences& seqs) { return discriminator_logits(d, seqs, pad, device); };
  if (d.causal())
    s.cached = [&d, pad, device](const std::vector<const std::vector<int32_t>*>& contexts) {
      return std::make_unique<LearnedPrefixCache>(d, contexts, pad, device);
    };
  return s;
}

void fail_undefined_logits(const char* decoder, size_t row, int64_t step) {
  fail("decoding (", decoder, "): the generator's logits of row ", row, " at token step ", step + 1,
       " are not finite (NaN or +inf, or every token impossible): its weights or activations have overflowed");
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

SampledSet sample_sequences(const Generator& g, const Prompts& prompts, int64_t length, const SamplingConfig& cfg,
                            uint64_t seed, int32_t eos, int64_t batch) {
  NoGradGuard no_grad;
  const size_t n = size_t(prompts.rows());
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (const RowGroup& group : group_rows(prompts, length, g.config().max_len, batch)) {
    const int64_t b = int64_t(group.rows.size());
    Generator::Cache cache = g.new_cache(b);
    Tensor logits = prefill(g, group, prompts.start_token, cache);
    std::vector<bool> open(static_cast<size_t>(b), true);
    std::vector<std::vector<bool>> kept;  // kept[t][r]: row r was open when it drew its step-t token
    int64_t n_open = b;
    auto take = [&](int64_t t, const auto& tok) {  // step t's tokens into the open rows
      kept.push_back(open);
      for (size_t r = 0; r < size_t(b); ++r) {
        if (!open[r]) continue;
        const int32_t y = int32_t(tok[r]);
        if (y < 0) fail_undefined_logits("sample", group.rows[r], t);  // the sampler's mark: no distribution
        out.seqs[group.rows[r]].push_back(y);
        if (y == eos) open[r] = false, --n_open;
      }
    };
    // Per step, log p, log q̂ and the token (as f32: exact below 2^24) stay on the device until the
    // group ends. A step waits for the device only to read the tokens that decide which rows go
    // on, and the last step not even for that: at most one wait per token step.
    Tensor record = Tensor::empty({group.length, 3, b}, DType::F32, g.device());
    int64_t steps = 0;
    bool last_read = true;
    for (int64_t t = 0; t < group.length && n_open > 0; ++t) {
      const Samples s = sample_logits(logits, cfg, seed, group.offset(t));
      for (auto [k, x] : {std::pair{0, s.logp}, {1, s.logq}, {2, s.tokens.to(DType::F32)}}) {
        Tensor row = record.slice(0, t, t + 1).slice(1, k, k + 1);  // a view: reshape it and the copy lands elsewhere
        copy_(row, x.reshape({1, 1, b}));
      }
      ++steps;
      if (t + 1 == group.length) {
        last_read = false;
        break;
      }
      take(t, s.tokens.to_vector<int32_t>());
      if (n_open > 0) logits = g.step(s.tokens, cache);
    }
    const std::vector<float> rec = record.slice(0, 0, steps).to_vector<float>();
    auto at = [&](int64_t t, int k) { return rec.data() + (size_t(t) * 3 + size_t(k)) * size_t(b); };
    if (!last_read) take(steps - 1, std::vector<float>(at(steps - 1, 2), at(steps - 1, 2) + b));
    for (int64_t t = 0; t < steps; ++t)
      for (size_t r = 0; r < size_t(b); ++r)
        if (kept[size_t(t)][r]) out.logp[group.rows[r]] += double(at(t, 0)[r]), out.logq[group.rows[r]] += double(at(t, 1)[r]);
  }
  return out;
}

}  // namespace coopgen
