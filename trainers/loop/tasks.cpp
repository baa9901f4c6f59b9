#include "trainers/loop/tasks.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

#include "engine/io.h"
#include "engine/ops.h"
#include "engine/utf8.h"
#include "models/bpe.h"
#include "trainers/eval/bleu.h"
#include "trainers/eval/rouge.h"

namespace coopgen {

// Word-level tasks: the vocabulary of `corpus` and its special tokens.
static Vocab adopt_vocabulary(Task& task, const std::vector<Words>& corpus, const RunConfig& cfg) {
  Vocab words = Vocab::build(corpus, cfg.data.min_count);
  task.vocab_text = words.text();
  task.writes_vocab = true;
  task.vocab = words.size();
  task.start_token = Vocab::kBos;
  task.eos = Vocab::kEos;
  task.pad = Vocab::kPad;
  task.sample_length = cfg.model.max_len - 1;
  return words;
}

std::string Task::vocabulary() const {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits
  for (unsigned char c : vocab_text) h = (h ^ c) * 0x100000001b3ull;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld tokens, fnv1a64 %016llx", (long long)vocab, (unsigned long long)h);
  return buf;
}

// Where a text or pairs task's validation split came from (its lines are not in the training count).
static std::string validation_summary(const RunConfig& cfg, size_t n) {
  return "validation split: " + std::to_string(n) + " sequences (" +
         (cfg.data.valid_file.empty() ? "the last " + std::to_string(int(cfg.data.valid_fraction * 100 + 0.5)) +
                                            "% of the usable training lines, held out"
                                      : cfg.data.valid_file) + ")";
}

std::unique_ptr<Task> Task::create(const RunConfig& cfg) {
  switch (cfg.data.task) {
    case TaskKind::oracle: return std::make_unique<OracleTask>(cfg);
    case TaskKind::text: return std::make_unique<TextTask>(cfg);
    case TaskKind::pairs: return std::make_unique<PairTask>(cfg);
  }
  fail("data.task: unknown task");
}

double Task::make_batch(const Sequences& seqs, const std::vector<size_t>& rows, Device device, Tensor& ids,
                        Tensor& targets, Tensor& mask) const {
  const int64_t B = int64_t(rows.size());
  int64_t T = 1;
  for (size_t r : rows) T = std::max<int64_t>(T, int64_t(seqs[r].size()));
  std::vector<int32_t> in(static_cast<size_t>(B * T), pad), out(static_cast<size_t>(B * T), pad);
  std::vector<float> m(static_cast<size_t>(B * T), 0.0f);
  double tokens = 0;
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[rows[size_t(b)]];
    const auto sep_at = sep >= 0 ? std::find(s.begin(), s.end(), sep) : s.end();
    const int64_t first_scored = sep_at == s.end() ? 0 : int64_t(sep_at - s.begin()) + 1;
    for (int64_t t = 0; t < int64_t(s.size()); ++t) {
      in[size_t(b * T + t)] = t == 0 ? start_token : s[size_t(t - 1)];
      out[size_t(b * T + t)] = s[size_t(t)];
      m[size_t(b * T + t)] = t >= first_scored ? 1.0f : 0.0f;
    }
    tokens += double(std::max<int64_t>(0, int64_t(s.size()) - first_scored));
  }
  ids = Tensor::from(in, {B, T}, device);
  targets = Tensor::from(out, {B * T}, device);
  mask = Tensor::from(m, {B * T}, device);
  return tokens;
}

double Task::nll(const Generator& g, const Sequences& seqs, int64_t batch) const {
  NoGradGuard no_grad;
  double total = 0, tokens = 0;
  for (int64_t first = 0; first < int64_t(seqs.size()); first += batch) {
    std::vector<size_t> rows(static_cast<size_t>(std::min<int64_t>(batch, int64_t(seqs.size()) - first)));
    std::iota(rows.begin(), rows.end(), size_t(first));
    Tensor ids, targets, mask;
    tokens += make_batch(seqs, rows, g.device(), ids, targets, mask);
    total += g.weighted_logprob(ids, targets, mask, Tensor::full({ids.size(0)}, 1.0, mask.dtype(), g.device())).item();
  }
  return total / tokens;
}

Metrics Task::evaluate(const Generator& g, const RunConfig& cfg, const PrefixScorer& d, int64_t step,
                       SamplesFrom from) const {
  return evaluate_metrics(EvalInputs(*this, g, cfg, d, step, from));
}

void Task::cut_at_eos(std::vector<int32_t>& seq) const {
  if (eos >= 0) seq.erase(std::find(seq.begin(), seq.end(), eos), seq.end());
}

std::vector<int32_t> Task::context_of(const std::vector<int32_t>& seq) const {
  if (sep < 0) return {};
  const auto at = std::find(seq.begin(), seq.end(), sep);
  CG_CHECK(at != seq.end(), "conditional example without <sep>");
  return {seq.begin(), at + 1};
}

Prompts Task::prompts(const Sequences& from, const std::vector<size_t>& rows, int64_t per_context) const {
  if (sep < 0) return Prompts::unconditional(start_token, int64_t(rows.size()) * per_context);
  Prompts p{start_token, {}, per_context};
  for (size_t r : rows) p.contexts.push_back(context_of(from[r]));
  return p;
}

Prompts Task::leading_prompts(const Sequences& from, int64_t n, int64_t per_context) const {
  if (sep < 0) return Prompts::unconditional(start_token, n * per_context);
  std::vector<size_t> rows(static_cast<size_t>(std::min<int64_t>(n, int64_t(from.size()))));
  std::iota(rows.begin(), rows.end(), size_t(0));
  return prompts(from, rows, per_context);
}

SampledSet Task::decode(const Generator& g, const Prompts& prompts, const DecodingConfig& dec, const SamplingConfig& s,
                        const PrefixScorer& d, uint64_t seed) const {
  SampledSet out = decoder_named(dec.decoder).decode({g, d, prompts, sample_length, s, dec, seed, eos});
  for (size_t r = 0; r < out.seqs.size(); ++r) {
    const std::vector<int32_t>& context = prompts.contexts[r / size_t(prompts.per_context)];
    out.seqs[r].insert(out.seqs[r].begin(), context.begin(), context.end());
  }
  return out;
}

SampledSet Task::draw(const Generator& g, const Prompts& prompts, const SamplingConfig& s, uint64_t seed) const {
  return decode(g, prompts, DecodingConfig{}, s, PrefixScorer{}, seed);
}

OracleTask::OracleTask(const RunConfig& cfg) : oracle(cfg.data.oracle, cfg.device) {
  vocab = oracle.vocab();
  start_token = OracleLSTM::kStartToken;
  sample_length = OracleLSTM::kLength;
  train = oracle.generate(cfg.data.train_size, cfg.data.seed);
  test = oracle.generate(cfg.data.test_size, cfg.data.seed + 0x9e3779b97f4a7c15ull);
  valid = oracle.generate(cfg.data.valid_size, cfg.data.seed + 0x7f4a7c159e3779b9ull);
  test_nll_data = oracle.nll(test);
}

std::string OracleTask::render(const std::vector<int32_t>& seq) const {
  std::string out;
  for (int32_t t : seq) {
    if (!out.empty()) out += ' ';
    out += std::to_string(t);
  }
  return out;
}

TextTask::TextTask(const RunConfig& cfg) {
  if (cfg.data.train_file.empty() || cfg.data.test_file.empty())
    fail("data.task text needs data.train_file and data.test_file");
  const int64_t max_tokens = cfg.model.max_len - 1;  // the start token takes one position
  // The lines of a file that are UTF-8 and not blank (the others counted).
  auto read_lines = [](const std::string& path, LineStats& stats) {
    std::vector<std::string> out;
    for_each_line(path, [&](std::string& line) {
      stats.read++;
      if (!valid_utf8(line)) stats.not_utf8++;
      else if (split_whitespace(line).empty()) stats.empty++;
      else out.push_back(std::move(line));
    });
    return out;
  };
  LineStats tr, te, va;
  std::vector<std::string> train_lines = read_lines(cfg.data.train_file, tr), test_lines = read_lines(cfg.data.test_file, te);
  std::vector<std::string> valid_lines = cfg.data.valid_file.empty() ? hold_out(train_lines, cfg.data.valid_fraction)
                                                                     : read_lines(cfg.data.valid_file, va);
  const TokenizerConfig& tk = cfg.data.tokenizer;
  if (tk.kind == TokenizerKind::gpt2_bpe) {
    if (tk.vocab.empty() || tk.merges.empty()) fail("data.tokenizer gpt2_bpe needs data.tokenizer.vocab and data.tokenizer.merges");
    codec = std::make_unique<Gpt2Bpe>(tk.vocab, tk.merges);
  } else {  // the words of the training lines that fit, as before the codecs
    std::vector<Words> words;
    for (const std::string& line : train_lines)
      if (Words w = split_whitespace(line); int64_t(w.size()) <= max_tokens) words.push_back(std::move(w));
    codec = std::make_unique<WordCodec>(Vocab::build(words, cfg.data.min_count));
    writes_vocab = true;
  }
  vocab = codec->size();
  vocab_text = codec->vocab_text();
  start_token = codec->start(), eos = codec->end(), pad = codec->pad();
  sample_length = max_tokens;
  // Each line's ids and <end>; a line longer than the model's positions is counted and skipped.
  auto encode_all = [&](const std::vector<std::string>& lines, LineStats& stats, Sequences& out, std::vector<Words>* text) {
    for (const std::string& line : lines) {
      std::vector<int32_t> ids = codec->encode(line);
      if (int64_t(ids.size()) > max_tokens) {
        stats.too_long++;
        continue;
      }
      stats.kept++;
      ids.push_back(eos);
      out.push_back(std::move(ids));
      if (text) text->push_back(split_whitespace(line));
    }
  };
  encode_all(train_lines, tr, train, nullptr);
  encode_all(valid_lines, va, valid, nullptr);
  encode_all(test_lines, te, test, &test_text);
  std::fprintf(stderr, "%s\n%s\n%s\n", tr.summary(cfg.data.train_file, max_tokens).c_str(),
               te.summary(cfg.data.test_file, max_tokens).c_str(), validation_summary(cfg, valid.size()).c_str());
  if (train.empty() || test.empty()) fail(cfg.data.train_file, ": no usable sentences");
}

std::string TextTask::render(const std::vector<int32_t>& seq) const { return codec->decode(seq); }

Words TextTask::words_of(const std::vector<int32_t>& seq) const { return split_whitespace(codec->decode(seq)); }

std::vector<std::pair<Words, Words>> read_pairs(const std::string& stem, int64_t max_tokens, LineStats& stats) {
  const std::string src_path = stem + ".src.txt", tgt_path = stem + ".tgt.txt";
  std::vector<std::string> src, tgt;
  for_each_line(src_path, [&](std::string& line) { src.push_back(std::move(line)); });
  for_each_line(tgt_path, [&](std::string& line) { tgt.push_back(std::move(line)); });
  if (src.size() != tgt.size())
    fail(src_path, " has ", src.size(), " lines but ", tgt_path, " has ", tgt.size(), " (they must be line-aligned)");
  std::vector<std::pair<Words, Words>> out;
  for (size_t k = 0; k < src.size(); ++k) {
    stats.read++;
    if (!valid_utf8(src[k]) || !valid_utf8(tgt[k])) {
      stats.not_utf8++;
      continue;
    }
    Words ws = split_whitespace(src[k]), wt = split_whitespace(tgt[k]);
    if (ws.empty() || wt.empty()) {
      stats.empty++;
      continue;
    }
    if (max_tokens > 0 && int64_t(ws.size() + wt.size()) > max_tokens) {
      stats.too_long++;
      continue;
    }
    stats.kept++;
    out.emplace_back(std::move(ws), std::move(wt));
  }
  return out;
}

PairTask::PairTask(const RunConfig& cfg) {
  if (cfg.data.train_file.empty() || cfg.data.test_file.empty())
    fail("data.task pairs needs data.train_file and data.test_file (the stems of <stem>.src.txt / <stem>.tgt.txt)");
  const int64_t max_words = cfg.model.max_len - 3;  // <bos>, <sep> and <eos> take three positions
  LineStats tr, te;
  auto train_pairs = read_pairs(cfg.data.train_file, max_words, tr);
  const auto test_pairs = read_pairs(cfg.data.test_file, max_words, te);
  LineStats va;
  const auto valid_pairs = cfg.data.valid_file.empty() ? hold_out(train_pairs, cfg.data.valid_fraction)
                                                       : read_pairs(cfg.data.valid_file, max_words, va);
  std::fprintf(stderr, "%s\n%s\n%s\n", tr.summary(cfg.data.train_file + ".{src,tgt}.txt", max_words).c_str(),
               te.summary(cfg.data.test_file + ".{src,tgt}.txt", max_words).c_str(),
               validation_summary(cfg, valid_pairs.size()).c_str());
  if (train_pairs.empty() || test_pairs.empty()) fail(cfg.data.train_file, ": no usable pairs");
  std::vector<Words> corpus;
  for (auto& [s, t] : train_pairs) corpus.push_back(s), corpus.push_back(t);
  words = adopt_vocabulary(*this, corpus, cfg);
  sep = Vocab::kSep;
  auto encode_all = [&](const std::vector<std::pair<Words, Words>>& pairs, Sequences& out) {
    for (auto& [s, t] : pairs) {
      std::vector<int32_t> ids = words.encode(s);
      ids.push_back(sep);
      for (int32_t id : words.encode(t)) ids.push_back(id);
      ids.push_back(eos);
      out.push_back(std::move(ids));
    }
  };
  encode_all(train_pairs, train);
  encode_all(valid_pairs, valid);
  encode_all(test_pairs, test);
  for (auto& pair : test_pairs) test_targets.push_back(pair.second);
}

std::string PairTask::render(const std::vector<int32_t>& seq) const {
  std::string out;
  for (int32_t id : seq) {
    if (id == eos) break;
    if (!out.empty()) out += ' ';
    out += id == sep ? "<sep>" : words.word(id);
  }
  return out;
}

}  // namespace coopgen
