// Monte-Carlo tree search over p·D (trainers/decoding/mcts.h). The trees live on the host; what
// touches the models is batched: per simulation one generator call below the cached committed
// prefix for every row's leaf, and one discriminator call over every row's prefix.
#include "trainers/decoding/decoders.h"
#include "trainers/decoding/mcts.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "engine/logspace.h"
#include "engine/random.h"

namespace coopgen {

namespace {

struct TreeNode {
  int32_t token = -1;
  int32_t parent = -1;
  int32_t first_child = -1, children = 0;  // a node's children are contiguous in Tree::nodes
  int32_t length = 0;                      // tokens of the sequence this node ends
  bool terminal = false;                   // ends with <eos> or at the length limit
  float prior = 0;                         // π(token | parent)
  float logp = 0;                          // log p(token | parent), the model's own
  float d_value = 0;                       // D(prefix), once evaluated
  int32_t visits = 0;
  double value_sum = 0, value_max = 0;
};

struct Tree {
  std::vector<TreeNode> nodes;
  int32_t root = 0;
  std::vector<int32_t> committed;  // the context, then the emitted tokens: the root's prefix for D
  int64_t limit = 0;               // tokens the row may generate
  bool done = false;
};

double q_value(const Tree& tree, int32_t i, bool mean) {
  for (; i >= 0; i = tree.nodes[size_t(i)].parent) {  // first-play urgency: an unvisited node's Q is its parent's
    const TreeNode& n = tree.nodes[size_t(i)];
    if (n.visits > 0) return mean ? n.value_sum / n.visits : n.value_max;
  }
  return 0.0;
}

int32_t select_child(const Tree& tree, int32_t i, const MctsConfig& cfg) {
  const TreeNode& n = tree.nodes[size_t(i)];
  int64_t total = 0;
  for (int32_t c = n.first_child; c < n.first_child + n.children; ++c) total += tree.nodes[size_t(c)].visits;
  const double explore = cfg.c_puct * std::sqrt(double(std::max<int64_t>(1, total)));
  const bool mean = cfg.backup == MctsBackup::mean;
  int32_t best = n.first_child;
  double best_score = kNegInf;
  for (int32_t c = n.first_child; c < n.first_child + n.children; ++c) {  // children in decreasing prior
    const TreeNode& ch = tree.nodes[size_t(c)];
    const double s = q_value(tree, c, mean) + explore * ch.prior / (1.0 + ch.visits);
    if (s > best_score) best_score = s, best = c;
  }
  return best;
}

// The prior filter's rows of `logits` [rows, V] on the host (filter_rows), k = top_k or V.
std::vector<float> prior_rows(const Tensor& logits, const MctsConfig& cfg, int64_t step) {
  const int64_t V = logits.size(-1);
  return filter_rows(logits, cfg.top_k > 0 ? std::min(cfg.top_k, V) : V, cfg.temperature, "mcts", step);
}

// Children of node i from its prior row (prior_rows): π = softmax(logits/τ) cut to the top_k,
// then to the top_p nucleus, renormalised. τ > 0 keeps the order of the logits, so the top
// tokens of π are those of the logits, and only the two normalisers span the vocabulary.
void expand(Tree& tree, int32_t i, const float* row, int64_t k, const MctsConfig& cfg, int32_t eos) {
  const float *z = row, *ids = row + k;
  const double inv_t = 1.0 / cfg.temperature, lz = double(row[2 * k]), lz_t = double(row[2 * k + 1]);
  double mass = 0;
  int64_t n = 0;
  while (n < k && (n == 0 || mass < cfg.top_p)) mass += std::exp(inv_t * double(z[n++]) - lz_t);
  const int32_t first = int32_t(tree.nodes.size()), len = tree.nodes[size_t(i)].length + 1;
  for (int64_t j = 0; j < n; ++j) {
    TreeNode c;
    c.token = int32_t(ids[j]), c.parent = i, c.length = len;
    c.terminal = c.token == eos || len >= tree.limit;
    c.prior = float(std::exp(inv_t * double(z[j]) - lz_t) / mass);
    c.logp = float(double(z[j]) - lz);
    tree.nodes.push_back(c);
  }
  tree.nodes[size_t(i)].first_child = first;
  tree.nodes[size_t(i)].children = int32_t(n);
}

// The tokens from the root's children down to node i.
std::vector<int32_t> path_from_root(const Tree& tree, int32_t i) {
  std::vector<int32_t> path;
  for (; i != tree.root; i = tree.nodes[size_t(i)].parent) path.push_back(tree.nodes[size_t(i)].token);
  std::reverse(path.begin(), path.end());
  return path;
}

// The subtree under `new_root`, copied breadth-first into a fresh node array (the rest of the
// tree is unreachable once a token is emitted): memory stays proportional to the live search.
void keep_subtree(Tree& tree, int32_t new_root) {
  std::vector<TreeNode> kept{tree.nodes[size_t(new_root)]};
  kept[0].parent = -1;
  for (size_t at = 0; at < kept.size(); ++at) {
    const int32_t from = kept[at].first_child, count = kept[at].children;
    if (count == 0) continue;
    kept[at].first_child = int32_t(kept.size());
    for (int32_t c = from; c < from + count; ++c) {
      kept.push_back(tree.nodes[size_t(c)]);
      kept.back().parent = int32_t(at);
    }
  }
  tree.nodes = std::move(kept);
  tree.root = 0;
}

void backup(Tree& tree, int32_t i, double value) {
  for (; i >= 0; i = tree.nodes[size_t(i)].parent) {
    TreeNode& n = tree.nodes[size_t(i)];
    n.value_max = n.visits == 0 ? value : std::max(n.value_max, value);
    n.value_sum += value;
    n.visits++;
  }
}

}  // namespace

SampledSet mcts_sequences(const Generator& g, const PrefixScorer& d, const Prompts& prompts, int64_t length,
                          const MctsConfig& cfg, uint64_t seed, int32_t eos, int64_t batch) {
  CG_CHECK(cfg.simulations >= 1, "decoding.mcts.simulations (", cfg.simulations, ") must be at least 1");
  CG_CHECK(cfg.temperature > 0 && cfg.top_p > 0 && cfg.c_puct >= 0 && cfg.visit_temperature >= 0,
           "decoding.mcts: temperature and top_p must be > 0, c_puct and visit_temperature ≥ 0");
  CG_CHECK(cfg.prior_mix >= 0 && cfg.prior_mix <= 1, "decoding.mcts.prior_mix (", cfg.prior_mix, ") must be in [0, 1]");
  NoGradGuard no_grad;
  const int64_t width = cfg.top_k > 0 ? std::min(cfg.top_k, g.vocab()) : g.vocab();  // prior_rows' k
  const size_t n = size_t(prompts.rows());
  SampledSet out{Sequences(n), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (const RowGroup& group : group_rows(prompts, length, g.config().max_len, batch)) {
    const int64_t b = int64_t(group.rows.size());
    const size_t context = group.contexts[0]->size();
    std::vector<Tree> trees(static_cast<size_t>(b));
    std::vector<double> lp(static_cast<size_t>(b), 0.0), lq(static_cast<size_t>(b), 0.0);
    Generator::Cache cache = g.new_cache(b);
    // D along the committed prefixes when it can be cached (a causal learned D): each simulation
    // then runs D over the leaf's path below the root only, not the whole prefix.
    const std::unique_ptr<PrefixCache> d_cache = d.cached ? d.cached(group.contexts) : nullptr;
    {
      const std::vector<float> prior = prior_rows(prefill(g, group, prompts.start_token, cache), cfg, 0);
      for (int64_t r = 0; r < b; ++r) {
        Tree& tree = trees[size_t(r)];
        tree.committed = *group.contexts[size_t(r)];
        tree.limit = group.length;
        tree.nodes.emplace_back();
        expand(tree, 0, prior.data() + r * (2 * width + 2), width, cfg, eos);
      }
    }
    for (int64_t t = 0; t < group.length; ++t) {
      for (int64_t sim = 0; sim < cfg.simulations; ++sim) {
        // Selection: each open row descends to an unevaluated node or a terminal one.
        std::vector<int32_t> leaf(static_cast<size_t>(b), -1);
        std::vector<std::vector<int32_t>> paths(static_cast<size_t>(b));
        Sequences prefixes;  // the leaves' whole prefixes, for a D without a prefix cache
        std::vector<size_t> scored_rows, expanded;  // rows whose leaf D scores; of them, those G expands
        for (size_t r = 0; r < size_t(b); ++r) {
          Tree& tree = trees[r];
          if (tree.done) continue;
          int32_t i = tree.root;
          while (tree.nodes[size_t(i)].children > 0 && !tree.nodes[size_t(i)].terminal) i = select_child(tree, i, cfg);
          leaf[r] = i;
          const TreeNode& node = tree.nodes[size_t(i)];
          if (node.visits > 0) continue;  // a terminal node already scored: its value is known
          paths[r] = path_from_root(tree, i);
          if (!d_cache) {
            std::vector<int32_t> prefix = tree.committed;
            prefix.insert(prefix.end(), paths[r].begin(), paths[r].end());
            prefixes.push_back(std::move(prefix));
          }
          scored_rows.push_back(r);
          if (!node.terminal) expanded.push_back(r);
        }
        // Expansion: the generator over every row's path below its cached prefix, in one call.
        if (!expanded.empty()) {
          const PathBatch below = batch_paths(paths, expanded, prompts.start_token, g.device());
          const std::vector<float> prior = prior_rows(g.lookahead(below.ids, below.last, cache), cfg, t);
          for (size_t r : expanded) expand(trees[r], leaf[r], prior.data() + int64_t(r) * (2 * width + 2), width, cfg, eos);
        }
        // Evaluation by D (no rollout) and backup.
        const std::vector<double> x = scored_rows.empty() ? std::vector<double>{}
                                      : d_cache             ? d_cache->score(paths, scored_rows)
                                                            : d(prefixes);
        for (size_t k = 0; k < scored_rows.size(); ++k) trees[scored_rows[k]].nodes[size_t(leaf[scored_rows[k]])].d_value = float(1.0 / (1.0 + std::exp(-x[k])));
        for (size_t r = 0; r < size_t(b); ++r)
          if (leaf[r] >= 0) backup(trees[r], leaf[r], trees[r].nodes[size_t(leaf[r])].d_value);
      }
      // Emission: the most visited root child, or one drawn from
      //   q̂(a) = (1 − ε) N(a)^(1/τ) / Σ_b N(b)^(1/τ) + ε π(a),   ε = prior_mix.
      std::vector<int32_t> emitted(static_cast<size_t>(b), prompts.start_token);
      bool open = false;
      for (size_t r = 0; r < size_t(b); ++r) {
        Tree& tree = trees[r];
        if (tree.done) continue;
        const TreeNode& root = tree.nodes[size_t(tree.root)];
        int32_t pick = root.first_child;
        if (cfg.visit_temperature == 0) {
          for (int32_t c = root.first_child; c < root.first_child + root.children; ++c)
            if (tree.nodes[size_t(c)].visits > tree.nodes[size_t(pick)].visits) pick = c;
        } else {
          std::vector<double> q;
          double z = 0;
          for (int32_t c = root.first_child; c < root.first_child + root.children; ++c) {
            const int32_t v = tree.nodes[size_t(c)].visits;
            q.push_back(v > 0 ? std::pow(double(v), 1.0 / cfg.visit_temperature) : 0.0);
            z += q.back();
          }
          for (size_t k = 0; k < q.size(); ++k)
            q[k] = (1 - cfg.prior_mix) * q[k] / z + cfg.prior_mix * double(tree.nodes[size_t(root.first_child) + k].prior);
          double u = double(random::philox_uniform(seed, group.offset(t), r)) * std::accumulate(q.begin(), q.end(), 0.0);
          size_t k = 0;
          while (k + 1 < q.size() && (u -= q[k]) >= 0) ++k;
          while (q[k] == 0) --k;  // rounding at the top end: the last child with mass
          pick = root.first_child + int32_t(k);
          lq[r] += std::log(q[k]);
        }
        const TreeNode& chosen = tree.nodes[size_t(pick)];
        lp[r] += double(chosen.logp);
        tree.committed.push_back(chosen.token);
        emitted[r] = chosen.token;
        tree.done = chosen.terminal;
        keep_subtree(tree, pick);
        open |= !tree.done;
      }
      if (!open) break;
      // The emitted tokens join the cached prefix. A root the search never reached (drawn from the
      // prior's share of q̂) is expanded from this step's logits.
      const Tensor logits = g.step(Tensor::from(emitted, {b}, g.device()), cache);
      if (d_cache) d_cache->commit(emitted);
      std::vector<float> prior;
      for (size_t r = 0; r < size_t(b); ++r) {
        Tree& tree = trees[r];
        if (tree.done || tree.nodes[size_t(tree.root)].children > 0) continue;
        if (prior.empty()) prior = prior_rows(logits, cfg, t + 1);
        expand(tree, tree.root, prior.data() + int64_t(r) * (2 * width + 2), width, cfg, eos);
      }
    }
    for (size_t r = 0; r < size_t(b); ++r) {
      const size_t row = group.rows[r];
      out.seqs[row].assign(trees[r].committed.begin() + long(context), trees[r].committed.end());
      out.logp[row] = lp[r], out.logq[row] = lq[r];
    }
  }
  return out;
}

DecoderKind decoder_mcts() {
  return {"mcts", "Monte Carlo tree search over p·D (decoding.mcts)", true,
          [](const DecodeCall& c) { return mcts_sequences(c.g, c.d, c.prompts, c.length, c.dec.mcts, c.seed, c.eos); },
          [](const DecodingConfig& dec) {
            if (dec.mcts.visit_temperature <= 0)
              fail("decoding.mcts.visit_temperature is 0: the search from one start token emits the same sequence M times; "
                   "set it > 0 (tokens drawn from the visit distribution)");
          }};
}

}  // namespace coopgen
