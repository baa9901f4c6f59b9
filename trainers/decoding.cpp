#include "trainers/decoding.h"

#include <algorithm>

namespace coopgen {

SampledSet sample_sequences(const Generator& g, int64_t n, int64_t length, int32_t start_token,
                            const SamplingConfig& cfg, uint64_t seed, int32_t eos, int64_t batch) {
  NoGradGuard no_grad;
  SampledSet out;
  uint64_t offset = 0;
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t b = std::min(batch, n - first);
    Generator::Cache cache = g.new_cache(b);
    Tensor prev = Tensor::full({b}, start_token, DType::I32, g.device());
    std::vector<std::vector<int32_t>> cols;
    std::vector<double> lp(static_cast<size_t>(b), 0.0), lq(static_cast<size_t>(b), 0.0);
    std::vector<int64_t> len(static_cast<size_t>(b), length);  // up to and including the first <eos>
    int64_t open = b;
    for (int64_t t = 0; t < length && open > 0; ++t) {
      Samples s = sample_logits(g.step(prev, cache), cfg, seed, offset);
      offset += uint64_t(b + 3) / 4;
      prev = s.tokens;
      cols.push_back(s.tokens.to_vector<int32_t>());
      std::vector<float> p = s.logp.to_vector<float>(), q = s.logq.to_vector<float>();
      for (size_t r = 0; r < size_t(b); ++r) {
        if (t >= len[r]) continue;
        lp[r] += double(p[r]), lq[r] += double(q[r]);
        if (cols.back()[r] == eos) len[r] = t + 1, --open;
      }
    }
    const size_t before = out.seqs.size();
    append_rows(out.seqs, cols);
    for (size_t r = 0; r < size_t(b); ++r) out.seqs[before + r].resize(size_t(std::min<int64_t>(len[r], int64_t(cols.size()))));
    out.logp.insert(out.logp.end(), lp.begin(), lp.end());
    out.logq.insert(out.logq.end(), lq.begin(), lq.end());
  }
  return out;
}

}  // namespace coopgen
