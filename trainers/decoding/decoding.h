// What every decoder shares (trainers/decoding/): the prompts a decode continues and the sampled
// set it returns, rows grouped by context length behind one KV cache, the discriminator as the
// cooperative decoders see it, and batched ancestral sampling itself. The cooperative decoders,
// in which the discriminator guides the generator (docs/method.md, "Cooperative decoding"), each
// have a header of their own: mcts.h (tree search over p·D), beam.h (D-guided beam search),
// guided.h (q̂ ∝ p·D token by token), rerank.h (candidates reranked by p·D/q̂); decoders.h picks
// one from the config. Each decodes a batch with one generator forward and one discriminator call
// per search step for the whole batch.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/device.h"
#include "engine/ops.h"
#include "models/discriminator.h"
#include "models/generator.h"
#include "models/oracle.h"

namespace coopgen {

struct SampledSet {
  Sequences seqs;
  std::vector<double> logp, logq;  // per sequence: Σ_t log p, Σ_t log q̂ of its tokens
};

// What a decoder continues: the start token, then each of `contexts` (none for unconditional
// generation; `src <sep>` for conditional generation), `per_context` times. Outputs are
// context-major (the continuations of context i are rows i·per_context … (i+1)·per_context − 1) and
// hold only the generated tokens; the discriminator sees context + continuation.
struct Prompts {
  int32_t start_token = 0;
  Sequences contexts{{}};
  int64_t per_context = 1;
  // One rank's shard of a draw spread over ranks: these rows are rows first_row … (a multiple of 4)
  // of a draw of stream_rows rows (0: this call alone). Random numbers are addressed by token
  // position and row within the whole draw, so every row gets the tokens it would get there.
  int64_t first_row = 0, stream_rows = 0;
  static Prompts unconditional(int32_t start_token, int64_t n) { return {start_token, {{}}, n, 0, 0}; }
  int64_t rows() const { return int64_t(contexts.size()) * per_context; }
};

// The rows of a decode in groups whose contexts have one length, so a group shares one KV-cache
// length: up to `batch` output row indices per group, each row's context, and how many tokens
// the group may generate (`length`, or fewer where the context leaves less room in max_len).
struct RowGroup {
  std::vector<size_t> rows;
  std::vector<const std::vector<int32_t>*> contexts;
  int64_t length;
  // Philox addressing: row k of the group draws word (stream_row + k) of the counters
  // t·stream_stride … at token position t (stream_row a multiple of 4; stride = ⌈draw rows/4⌉).
  uint64_t stream_row = 0, stream_stride = 0;
  uint64_t offset(int64_t t) const { return uint64_t(t) * stream_stride + stream_row / 4; }
};
std::vector<RowGroup> group_rows(const Prompts& prompts, int64_t length, int64_t max_len, int64_t batch);

// Fills a fresh KV cache with each row's start token + context (one call) and returns the logits
// [B, V] for the first generated token.
Tensor prefill(const Generator& g, const RowGroup& group, int32_t start_token, Generator::Cache& cache);

// Up to `length` tokens after each prompt, drawn from q̂ (cfg) with Philox `seed`. A sequence ends
// with its first `eos` (kept; −1: fixed length), and its log p and log q̂ sum over the tokens up to
// and including it. On CUDA (with model.decode_graphs) each group's token steps replay as one CUDA
// graph: one launch and one wait per group instead of a few dozen launches and one wait per token.
SampledSet sample_sequences(const Generator& g, const Prompts& prompts, int64_t length, const SamplingConfig& cfg,
                            uint64_t seed, int32_t eos = -1, int64_t batch = 256);

// sample_sequences' CUDA graphs, kept with the generator: per decode shape (graph_key in
// decoding.cpp: rows, context length, steps, Philox stride, the sampler's settings, the weights'
// addresses) a graph and the record it writes, at most kMax shapes, the oldest dropped first; and
// what the graphs read, sized for the most rows decoded so far (one KV cache, as the eager path's
// largest group needs; a larger group replaces it and the graphs captured on it): the cache, the
// prefill's logits and the Philox stream (philox_words: seed, the group's row offset).
struct Generator::DecodeGraphs {
  static constexpr size_t kMax = 8;
  struct Inputs {
    int64_t rows;
    Generator::Cache cache;
    Tensor logits, stream;  // [rows, V]; i32 [4]
  };
  struct Entry {
    std::vector<int64_t> key;
    std::shared_ptr<Inputs> inputs;  // the buffers its graph reads
    Tensor record;                   // [steps, 3, b]: log p, log q̂, token
    std::unique_ptr<device::Graph> graph;
  };
  std::shared_ptr<Inputs> inputs;
  std::deque<Entry> entries;
};

// D along each row's growing prefix, for a search that commits one token per row at a time and
// scores continuations in between (MCTS): what was committed is not read again.
class PrefixCache {
 public:
  virtual ~PrefixCache() = default;
  // D's logits on the committed prefix of row rows[k] followed by paths[rows[k]] (non-empty), for
  // each k, nothing committed.
  virtual std::vector<double> score(const std::vector<std::vector<int32_t>>& paths, const std::vector<size_t>& rows) = 0;
  // D's logits on the committed prefix of each row r followed by one token, each of cand[r] in
  // turn (any number per row, none for a row not asked): the rows' results one after another.
  virtual std::vector<double> score_next(const std::vector<std::vector<int32_t>>& cand) = 0;
  // Appends tokens[r] to row r's committed prefix, for every row.
  virtual void commit(const std::vector<int32_t>& tokens) = 0;
};

// The discriminator as the decoders use it: its logits x (D = σ(x)) on a batch of sequences or
// unfinished prefixes and, where it has one, its own guide for the guided decoder (the oracle's
// exact D*: every token scored at once) and a prefix cache (a causal learned D). Without a guide
// the guided decoder scores candidates through `logits`; without a cache the search scores whole
// prefixes.
struct PrefixScorer {
  using Logits = std::function<std::vector<double>(const Sequences&)>;
  // A guide for one decode of rows continuing these contexts.
  using Guide = std::function<std::unique_ptr<PrefixGuide>(const std::vector<const std::vector<int32_t>*>& contexts)>;
  // A prefix cache for rows whose committed prefixes start as these contexts (equal lengths).
  using Cached = std::function<std::unique_ptr<PrefixCache>(const std::vector<const std::vector<int32_t>*>& contexts)>;
  Logits logits;
  Guide guide;
  Cached cached;
  PrefixScorer() = default;
  template <class F>
    requires std::is_invocable_r_v<std::vector<double>, F, const Sequences&>
  PrefixScorer(F f) : logits(std::move(f)) {}  // NOLINT: a plain scoring function converts
  std::vector<double> operator()(const Sequences& seqs) const { return logits(seqs); }
  explicit operator bool() const { return bool(logits); }
};

// Paths of different lengths below each row's cached prefix as one padded batch (for
// Generator::lookahead and a PrefixCache): ids i32 [paths.size(), depth] on `device`, row r holding
// paths[r] for r in `rows` (the others only `pad`), depth the longest listed path (at least 1);
// last[r] the position of row r's last path token (0 for rows not listed).
struct PathBatch {
  Tensor ids;
  std::vector<int32_t> last;
};
PathBatch batch_paths(const std::vector<std::vector<int32_t>>& paths, const std::vector<size_t>& rows, int32_t pad,
                      Device device);

// A learned D as a PrefixScorer: its logits on padded batches (discriminator_logits, `pad` the
// padding id) and, when D is causal, a prefix cache (DiscriminatorPrefixCache).
PrefixScorer learned_scorer(const TransformerDiscriminator& d, int32_t pad, Device device);

// A decoding step whose logits define no distribution — a NaN or +∞ logit, or no finite one: the
// model's weights or activations have overflowed — ends the decode (and a training run) with an
// error naming the decoder, the row of the batch and the token step, rather than emitting tokens.
[[noreturn]] void fail_undefined_logits(const char* decoder, size_t row, int64_t step);
// Its message, for `rows` ("row 3", "2 row(s)") at token step step + 1.
std::string undefined_logits_message(const char* decoder, const std::string& rows, int64_t step);
// The same check on host logits [rows × V] (the searches and the guided proposal read them).
void check_logits(const std::vector<float>& logits, int64_t V, const char* decoder, int64_t step);

// The k best tokens of each row of logits [..., V], on the host: 2k' + 2 floats a row, k' = min(k, V)
// (engine top_k_logits: the k' largest logits, their ids, log Σ e^z, log Σ e^(z/τ)); with `gumbel`,
// k' tokens drawn without replacement instead (engine gumbel_top_k at Philox (seed, offset), row
// n's noise at element n·V + v; τ unused). The filter runs where the logits are, so rows·(2k' + 2)
// floats cross instead of rows·V, unless k' rounds over a row (the CUDA kernel's cost) would
// exceed copying it (8k' > V): then it runs on a host copy, with the same result. A row without
// a distribution fails (fail_undefined_logits, naming the decoder and step).
struct GumbelDraw {
  uint64_t seed = 0, offset = 0;
};
std::vector<float> filter_rows(const Tensor& logits, int64_t k, double temperature, const char* decoder, int64_t step,
                               const GumbelDraw* gumbel = nullptr);

}  // namespace coopgen
