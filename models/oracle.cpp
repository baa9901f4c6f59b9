#include "models/oracle.h"

#include <algorithm>
#include <cmath>

#include "engine/io.h"
#include "engine/logspace.h"
#include "engine/ops.h"

namespace coopgen {

OracleLSTM::OracleLSTM(const std::string& path, Device device) : device_(device) {
  auto w = load_safetensors(path);
  auto need = [&](const std::string& name, const Shape& shape) {
    auto it = w.find(name);
    if (it == w.end()) fail(path, ": oracle tensor '", name, "' is missing");
    if (it->second.shape() != shape || it->second.dtype() != DType::F32)
      fail(path, ": oracle tensor '", name, "' is ", describe(it->second), ", expected f32", shape_str(shape));
    w_[name] = it->second.to(device);
  };
  vocab_ = w.count("embedding") ? w.at("embedding").size(0) : 0;
  const int64_t e = 32, h = 32;
  need("embedding", {vocab_, e});
  for (const char* g : {"Wi", "Wf", "Wog", "Wc"}) need(g, {e, h});
  for (const char* g : {"Ui", "Uf", "Uog", "Uc"}) need(g, {h, h});
  for (const char* g : {"bi", "bf", "bog", "bc"}) need(g, {h});
  need("Wo", {h, vocab_});
  need("bo", {vocab_});
}

Tensor OracleLSTM::step(const Tensor& prev, Tensor& h, Tensor& c) const {
  const Tensor x = embedding(prev, w_.at("embedding"));
  auto gate = [&](const char* W, const char* U, const char* b) {
    return bias_add(add(matmul(x, w_.at(W)), matmul(h, w_.at(U))), w_.at(b));
  };
  const Tensor i = sigmoid(gate("Wi", "Ui", "bi")), f = sigmoid(gate("Wf", "Uf", "bf"));
  const Tensor o = sigmoid(gate("Wog", "Uog", "bog")), cand = tanh(gate("Wc", "Uc", "bc"));
  c = add(mul(f, c), mul(i, cand));
  h = mul(o, tanh(c));
  return bias_add(matmul(h, w_.at("Wo")), w_.at("bo"));
}

void append_rows(Sequences& out, const std::vector<std::vector<int32_t>>& columns) {
  const size_t rows = columns.empty() ? 0 : columns[0].size();
  for (size_t r = 0; r < rows; ++r) {
    std::vector<int32_t> seq(columns.size());
    for (size_t t = 0; t < columns.size(); ++t) seq[t] = columns[t][r];
    out.push_back(std::move(seq));
  }
}

Sequences OracleLSTM::generate(int64_t n, uint64_t seed, int64_t batch) const {
  NoGradGuard no_grad;
  Sequences out;
  uint64_t offset = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    Tensor h = Tensor::zeros({b, 32}, DType::F32, device_), c = Tensor::zeros({b, 32}, DType::F32, device_);
    Tensor prev = Tensor::full({b}, kStartToken, DType::I32, device_);
    std::vector<std::vector<int32_t>> cols;
    for (int64_t t = 0; t < kLength; ++t) {
      prev = sample_logits(step(prev, h, c), {}, seed, offset).tokens;
      offset += uint64_t(b + 3) / 4;  // next Philox blocks
      cols.push_back(prev.to_vector<int32_t>());
      if (*std::min_element(cols.back().begin(), cols.back().end()) < 0)
        fail("oracle: its logits at token step ", t + 1, " are not finite (corrupt weights?)");
    }
    append_rows(out, cols);
  }
  return out;
}

// The sequences of a batch checked against the oracle's length; returns the batch size.
static int64_t check_batch(const Sequences& seqs, int64_t start, int64_t batch) {
  const int64_t b = std::min(batch, int64_t(seqs.size()) - start);
  for (int64_t r = 0; r < b; ++r)
    CG_CHECK(int64_t(seqs[size_t(start + r)].size()) == OracleLSTM::kLength, "oracle: sequence ", start + r, " has ",
             seqs[size_t(start + r)].size(), " tokens, the oracle scores exactly ", OracleLSTM::kLength);
  return b;
}

std::vector<double> OracleLSTM::log_softmax_rows(const Tensor& logits) const {
  const std::vector<float> z = logits.to_vector<float>();
  std::vector<double> out(z.size());
  for (size_t r = 0; r < z.size() / size_t(vocab_); ++r) {
    const float* row = z.data() + r * size_t(vocab_);
    const double lse = log_sum_exp(row, vocab_);
    for (int64_t v = 0; v < vocab_; ++v) out[r * size_t(vocab_) + size_t(v)] = double(row[v]) - lse;
  }
  return out;
}

OracleLSTM::State OracleLSTM::start(int64_t rows) const {
  return {Tensor::zeros({rows, 32}, DType::F32, device_), Tensor::zeros({rows, 32}, DType::F32, device_)};
}

std::vector<double> OracleLSTM::next(State& state, const std::vector<int32_t>& prev) const {
  NoGradGuard no_grad;
  return log_softmax_rows(step(Tensor::from(prev, {int64_t(prev.size())}, device_), state.h, state.c));
}

std::vector<double> OracleLSTM::log_probs(const Sequences& seqs, int64_t batch) const {
  NoGradGuard no_grad;
  std::vector<double> out(seqs.size(), 0.0);
  for (int64_t first = 0; first < int64_t(seqs.size()); first += batch) {
    const int64_t b = std::min(batch, int64_t(seqs.size()) - first);
    size_t longest = 0;
    for (int64_t r = 0; r < b; ++r) {
      const size_t len = seqs[size_t(first + r)].size();
      CG_CHECK(len >= 1 && int64_t(len) <= kLength, "oracle: sequence ", first + r, " has ", len,
               " tokens, the oracle scores 1 to ", kLength);
      longest = std::max(longest, len);
    }
    State state = start(b);
    std::vector<int32_t> prev(static_cast<size_t>(b), kStartToken);
    for (size_t t = 0; t < longest; ++t) {
      // One log-softmax entry per row: the row's log-sum-exp, not the whole row in double (next).
      const std::vector<float> z = step(Tensor::from(prev, {b}, device_), state.h, state.c).to_vector<float>();
      for (int64_t r = 0; r < b; ++r) {
        const auto& s = seqs[size_t(first + r)];
        if (t >= s.size()) continue;  // a shorter prefix: done (its input below is any valid token)
        const float* row = z.data() + r * vocab_;
        out[size_t(first + r)] += double(row[s[t]]) - log_sum_exp(row, vocab_);
        prev[size_t(r)] = s[t];
      }
    }
  }
  return out;
}

double OracleLSTM::nll(const Sequences& seqs, int64_t batch) const {
  NoGradGuard no_grad;
  double total = 0;
  const int64_t n = int64_t(seqs.size());
  CG_CHECK(n > 0, "oracle nll: no sequences");
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = check_batch(seqs, start, batch);
    Tensor h = Tensor::zeros({b, 32}, DType::F32, device_), c = Tensor::zeros({b, 32}, DType::F32, device_);
    Tensor prev = Tensor::full({b}, kStartToken, DType::I32, device_);
    const Tensor ones = Tensor::full({b}, 1.0, DType::F32, device_);
    for (int64_t t = 0; t < kLength; ++t) {
      std::vector<int32_t> col(static_cast<size_t>(b));
      for (int64_t r = 0; r < b; ++r) col[size_t(r)] = seqs[size_t(start + r)][size_t(t)];
      Tensor y = Tensor::from(col, {b}, device_);
      total += weighted_logprob(step(prev, h, c), y, ones, ones).item();
      prev = y;
    }
  }
  return total / double(n * kLength);
}

}  // namespace coopgen
