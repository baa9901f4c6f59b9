// The SeqGAN oracle LSTM (Yu et al. 2017), the synthetic task's ground truth: fixed weights from
// ../shared/data/oracle/seqgan_oracle_lstm.safetensors (equations in ../shared/data/README.md),
// vocabulary 5000, sequences of exactly 20 tokens, start token 0 fed as the first input.
// It samples the synthetic training/test sets and scores any sample set exactly (NLL-oracle).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace coopgen {

using Sequences = std::vector<std::vector<int32_t>>;

// Decoders draw one column of tokens per step (columns[t][row]); appends one sequence per row.
void append_rows(Sequences& out, const std::vector<std::vector<int32_t>>& columns);

class OracleLSTM {
 public:
  static constexpr int64_t kLength = 20;
  static constexpr int32_t kStartToken = 0;

  // Loads and checks every tensor's shape; errors name the file and tensor.
  OracleLSTM(const std::string& path, Device device = Device::CPU);

  int64_t vocab() const { return vocab_; }
  // `n` sequences sampled at temperature 1 from Philox stream `seed`.
  Sequences generate(int64_t n, uint64_t seed, int64_t batch = 500) const;
  // log p*(y) of each sequence or unfinished prefix (1 … kLength tokens), summed over its tokens
  // (log-softmax on the host, in double).
  std::vector<double> log_probs(const Sequences& seqs, int64_t batch = 500) const;

  // Incremental scoring, one token position per call for a batch of prefixes (the optimal
  // discriminator's guide): `next` takes the tokens of position t − 1 (the start token at t = 0)
  // and returns log p*(v | y_<t) for every v, [rows × V] in double.
  struct State {
    Tensor h, c;
  };
  State start(int64_t rows) const;
  std::vector<double> next(State& state, const std::vector<int32_t>& prev) const;
  // Mean over sequences of the summed token NLL, divided by the length (nats per token).
  double nll(const Sequences& seqs, int64_t batch = 500) const;

 private:
  // One LSTM step for a batch: updates h and c, returns the logits [B, V].
  Tensor step(const Tensor& prev, Tensor& h, Tensor& c) const;
  // Rows of logits [B, V] → log-softmax rows in double.
  std::vector<double> log_softmax_rows(const Tensor& logits) const;
  std::map<std::string, Tensor> w_;
  int64_t vocab_ = 0;
  Device device_;
};

}  // namespace coopgen
