// What a run learns from and how its generator is scored: the synthetic oracle task (fixed
// length 20, NLL-oracle and NLL-test) or a text task (sentences ending in <eos>, NLL-test, BLEU
// against the test file and Self-BLEU of the samples).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/generator.h"
#include "models/oracle.h"
#include "models/tokenizer.h"
#include "trainers/decoding/decoders.h"
#include "trainers/eval/metrics.h"
#include "trainers/loop/run_config.h"

namespace coopgen {


class Task {
 public:
  static std::unique_ptr<Task> create(const RunConfig& cfg);
  virtual ~Task() = default;

  int64_t vocab = 0;
  int32_t start_token = 0;  // fed before the first token
  int32_t eos = -1;         // ends a text sequence (−1: fixed length)
  int32_t pad = 0;          // input id at padded positions (masked out of the loss)
  int32_t sep = -1;         // conditional tasks: targets up to and including <sep> are context, not loss
  int64_t sample_length = 0;
  Sequences train, valid, test;  // target sequences (text: ending in <eos>); valid may be empty
  // The tokens in id order, one per line (empty for the oracle, whose ids name no words); a word
  // task's training run writes it as run_dir/vocab.txt.
  std::string vocab_text;
  bool writes_vocab = false;

  // "N tokens, fnv1a64 H" of vocab_text: saved with each checkpoint (task.vocabulary) and compared
  // when one is loaded, so a checkpoint never decodes with another vocabulary.
  std::string vocabulary() const;

  // Teacher forcing: inputs [B, T] = start + seq[:-1], targets [B·T] = seq, mask [B·T] (0 on
  // padding and, with a <sep>, on the source part: the loss is on the target only). Returns the
  // number of target tokens (the mask's sum, counted on the host: no read-back).
  double make_batch(const Sequences& seqs, const std::vector<size_t>& rows, Device device, Tensor& ids,
                  Tensor& targets, Tensor& mask) const;
  // Mean per-token NLL of `seqs` under the generator (NLL-test on `test`).
  double nll(const Generator& g, const Sequences& seqs, int64_t batch = 256) const;
  // Drops <eos> and what follows it (text tasks; fixed-length tasks are left as they are).
  void cut_at_eos(std::vector<int32_t>& seq) const;
  // The context of a conditional example (`src <sep>`: up to and including <sep>); empty otherwise.
  std::vector<int32_t> context_of(const std::vector<int32_t>& seq) const;
  // What to decode: a conditional task continues the context of each of `rows` of `from`,
  // `per_context` times; an unconditional one draws rows.size() · per_context sequences from its
  // start token (one group).
  Prompts prompts(const Sequences& from, const std::vector<size_t>& rows, int64_t per_context) const;
  // `per_context` continuations of each of the first n of `from` (n capped at its size;
  // evaluations and printed samples), or n · per_context unconditional draws.
  Prompts leading_prompts(const Sequences& from, int64_t n, int64_t per_context = 1) const;
  // Sequences for `prompts` from the decoder of `dec` (the sampler with `s`, or MCTS / DAS / the
  // guided proposal / reranking of draws from `s`, guided by the discriminator `d`), returned whole as the task stores them: context + continuation
  // (text: ending in <eos>), with the continuation's log p and log q̂.
  SampledSet decode(const Generator& g, const Prompts& prompts, const DecodingConfig& dec, const SamplingConfig& s,
                    const PrefixScorer& d, uint64_t seed) const;
  // The sampler alone: decode with the decoder `sample`.
  SampledSet draw(const Generator& g, const Prompts& prompts, const SamplingConfig& s, uint64_t seed) const;
  // The metrics of the generator (trainers/eval/metrics.def: each whose needs this task and `d`
  // meet), led by nll_valid (the per-token NLL of the validation split, which chooses checkpoints;
  // absent without one). `d` (the run's discriminator; may be empty) adds D's metrics; `from`
  // says whether the samples (and a conditional task's decoded targets) are p's own or
  // cfg.decoding's decoder's, guided by `d`; `step` seeds fresh draws.
  Metrics evaluate(const Generator& g, const RunConfig& cfg, const PrefixScorer& d, int64_t step = 0,
                   SamplesFrom from = SamplesFrom::sampler) const;
  virtual std::string render(const std::vector<int32_t>& seq) const = 0;
  // The data distribution p* where it is known exactly (the oracle task's LSTM), else none: the
  // optimal discriminator and the oracle metrics read it.
  virtual const OracleLSTM* data_model() const { return nullptr; }
  // With a data model: −(1/L)·mean log p*(y) over the test set (kl_test subtracts it from NLL-test).
  double test_nll_data = 0;
  // The test set's words where the task has text (text: the lines; pairs: the targets), else none;
  // and the words of a generated continuation (no context; cut at <eos>).
  virtual const std::vector<Words>* reference_words() const { return nullptr; }
  virtual Words words_of(const std::vector<int32_t>&) const { return {}; }
};

// The last ⌊fraction·n⌋ items of `train`, moved out as the validation split (text and pairs
// without data.valid_file): a held-out slice of the training file.
template <class Item> std::vector<Item> hold_out(std::vector<Item>& train, double fraction) {
  const auto n = static_cast<std::ptrdiff_t>(fraction * double(train.size()));
  std::vector<Item> held(std::make_move_iterator(train.end() - n), std::make_move_iterator(train.end()));
  train.erase(train.end() - n, train.end());
  return held;
}

// The synthetic oracle: NLL-oracle (samples of p scored by p*), NLL-test (the held-out oracle
// samples scored by p) and kl_test = NLL-test − the oracle's own NLL of those samples, the Monte
// Carlo estimate of KL(p*‖p) per token on the same sequences (H(p*) ≈ 5.74; docs/results.md).
class OracleTask : public Task {
 public:
  explicit OracleTask(const RunConfig& cfg);
  std::string render(const std::vector<int32_t>& seq) const override;
  const OracleLSTM* data_model() const override { return &oracle; }
  OracleLSTM oracle;
};

class TextTask : public Task {
 public:
  explicit TextTask(const RunConfig& cfg);
  std::string render(const std::vector<int32_t>& seq) const override;
  std::unique_ptr<TextCodec> codec;  // data.tokenizer
  std::vector<Words> test_text;      // the test lines' words: BLEU's references
  const std::vector<Words>* reference_words() const override { return &test_text; }
  Words words_of(const std::vector<int32_t>& seq) const override;
};

// Conditional generation by prefix: each example is <bos> src <sep> tgt <eos>. Evaluated by NLL-test
// on the target part and, for the first train.eval_samples test sources, the targets decoded from
// each source (the `sampling` section; temperature 0 is greedy; or decoding.decoder mcts | das with
// a discriminator) scored by corpus BLEU-4 and ROUGE-1/2/L F1 against the references.
class PairTask : public Task {
 public:
  explicit PairTask(const RunConfig& cfg);
  std::string render(const std::vector<int32_t>& seq) const override;
  Vocab words;
  std::vector<Words> test_targets;  // the references, as read
  const std::vector<Words>* reference_words() const override { return &test_targets; }
  Words words_of(const std::vector<int32_t>& target) const override { return words.decode(target); }
};

// Reads <stem>.src.txt and <stem>.tgt.txt line by line in step: a pair with an empty side, a side
// that is not UTF-8, or more than `max_tokens` words in all is counted in `stats` and skipped; files
// of different lengths are an error naming both.
std::vector<std::pair<Words, Words>> read_pairs(const std::string& stem, int64_t max_tokens, LineStats& stats);

}  // namespace coopgen
