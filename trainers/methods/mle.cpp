#include "trainers/methods/mle.h"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <set>

#include "engine/communicator.h"
#include "engine/io.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "models/gpt2.h"
#include "trainers/loop/loop.h"

namespace coopgen {

BatchOrder::BatchOrder(int64_t size, int64_t batch, uint64_t seed, const char* key) : size_(size), batch_(batch), seed_(seed) {
  if (batch < 1 || batch > size) fail(key, " (", batch, ") must be between 1 and the data size (", size, ")");
}

std::vector<size_t> BatchOrder::rows(int64_t step) {
  const int64_t per_epoch = size_ / batch_, epoch = step / per_epoch, k = step % per_epoch;
  if (epoch != epoch_) {
    order_.resize(size_t(size_));
    std::iota(order_.begin(), order_.end(), size_t(0));
    std::mt19937_64 rng(seed_ * 1000003ull + uint64_t(epoch));
    std::shuffle(order_.begin(), order_.end(), rng);
    epoch_ = epoch;
  }
  return std::vector<size_t>(order_.begin() + k * batch_, order_.begin() + (k + 1) * batch_);
}

uint64_t dropout_seed(uint64_t seed, int64_t step, uint64_t use) {
  return random::stream(random::stream(seed, step, 20 + use), dist::rank(), 21);
}

Tensor mle_loss_share(const Generator& g, const Task& task, const Sequences& data, const std::vector<size_t>& rows,
                      double& tokens, std::optional<uint64_t> dropout_seed) {
  Tensor ids, targets, mask;
  tokens = dist::all_reduce_sum(task.make_batch(data, dist::shard(rows, "train.batch_size"), g.device(), ids, targets, mask));
  CG_CHECK(tokens > 0, "an MLE batch has no target tokens");
  return g.weighted_logprob(ids, targets, mask, Tensor::full({ids.size(0)}, 1.0 / tokens, mask.dtype(), g.device()),
                            dropout_seed);
}

double logged_loss(const Tensor& loss, const AdamW& opt) {
  const double value = dist::all_reduce_sum(loss.item());
  if (!std::isfinite(value)) fail("training step ", opt.steps_taken() + 1, ": the loss is ", value, " (NaN or infinite)");
  return value;
}

StepResult mle_step(Generator& g, AdamW& opt, const Task& task, const Sequences& data, const std::vector<size_t>& rows,
                    bool read_loss, std::optional<uint64_t> dropout_seed) {
  // The gradients summed over ranks (AdamW::step) are those of the whole batch.
  double tokens = 0;
  Tensor loss = mle_loss_share(g, task, data, rows, tokens, dropout_seed);
  StepResult r{read_loss ? logged_loss(loss, opt) : std::nan(""), 0, opt.lr(), tokens};
  loss.backward();
  r.grad_norm = opt.step();
  opt.zero_grad();
  return r;
}

// The generator's tensors of a checkpoint into `g`: every one of them is used (the optimiser's and
// a discriminator's tensors belong to others).
static void load_generator_params(Generator& g, const std::map<std::string, Tensor>& tensors, const std::string& dir) {
  std::set<std::string> used;
  load_params(g.params(), tensors, dir, &used);
  refuse_unused(tensors, used, dir, {"adamw.", "disc."});
}

Generator load_generator(const RunConfig& cfg, const CheckpointRef& from, const Task* task) {
  const std::string& dir = from.dir;
  if (from.format == CheckpointRef::Format::hf_gpt2) {
    Generator g(with_gpt2_shape(cfg.model, from), read_gpt2_config(dir).vocab, cfg.seed, cfg.device, cfg.precision);
    load_gpt2_weights(g.params(), "", dir);
    return g;
  }
  TrainerState st;
  auto tensors = load_checkpoint(dir, &st);
  auto wte = tensors.find("wte");
  if (wte == tensors.end() || wte->second.dim() != 2) fail(dir, "/model.safetensors: tensor 'wte' is missing");
  GeneratorConfig shape = cfg.model;
  apply_stored_shape(shape, st, dir);
  check_checkpoint_fits(st, shape, task, dir);
  if (task && wte->second.size(0) != task->vocab)
    fail(dir, "/model.safetensors: tensor 'wte' has ", wte->second.size(0), " tokens, this config's data give ", task->vocab);
  Generator g(shape, wte->second.size(0), cfg.seed, cfg.device, cfg.precision);
  load_generator_params(g, tensors, dir);
  return g;
}

void init_generator(const RunConfig& cfg, Generator& g, const Task& task) {
  const CheckpointRef& from = cfg.model.init;
  if (from.empty()) return;
  if (from.format == CheckpointRef::Format::hf_gpt2) {
    load_gpt2_weights(g.params(), "", from.dir);
  } else {
    TrainerState st;
    const auto tensors = load_checkpoint(from.dir, &st);
    check_checkpoint_fits(st, cfg.model, &task, from.dir);
    load_generator_params(g, tensors, from.dir);
  }
  if (dist::is_root()) std::fprintf(stderr, "generator initialised from %s\n", from.str().c_str());
}

int train_mle(const RunConfig& cfg, RunStart start) {
  if (cfg.train.batch_size % dist::size() != 0)
    fail("train.batch_size (", cfg.train.batch_size, ") must be a multiple of the number of ranks (", dist::size(), ")");
  prepare_run_dir(cfg, start);
  std::unique_ptr<Task> task_ptr = Task::create(cfg);
  const Task& task = *task_ptr;
  check_batch_fits(cfg, cfg.train.batch_size, "train.batch_size", task.vocab);
  Generator g(cfg.model, task.vocab, cfg.seed, cfg.device, cfg.precision);
  if (start != RunStart::Resume) init_generator(cfg, g, task);
  AdamW opt(g.params(), cfg.optim, dist::reducer_for(tensors_of(g.params()), cfg.distributed.bucket_mb));
  BatchOrder batches(int64_t(task.train.size()), cfg.train.batch_size, cfg.seed, "train.batch_size");
  LoopHooks hooks;
  hooks.banner = std::string("coopgen train: mle on the ") + name_of(cfg.data.task) + " task, " + std::to_string(task.train.size()) +
                 " training sequences, vocabulary " + std::to_string(task.vocab) + ", device " + name_of(cfg.device) +
                 ", run folder " + cfg.run_dir;
  hooks.step = [&](int64_t step, bool log) {
    const StepResult r = mle_step(g, opt, task, task.train, batches.rows(step), log, dropout_seed(cfg.seed, step, 0));
    return StepReport{r.loss, r.tokens, {{"lr", r.lr}, {"grad_norm", r.grad_norm}}};
  };
  hooks.evaluate = [&] { return task.evaluate(g, cfg, PrefixScorer{}); };
  hooks.task = &task;
  const int code = run_training(cfg, {{&g.params(), &opt}}, hooks, start);
  if (code == 0 && cfg.data.task == TaskKind::oracle && dist::is_root())
    std::printf("reference points: SeqGAN's MLE NLL-oracle 9.038, untrained about 10.3\n");
  return code;
}

}  // namespace coopgen
