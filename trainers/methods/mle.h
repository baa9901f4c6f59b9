// Maximum-likelihood training of the generator on the task's data, on the shared loop
// (trainers/loop/loop.h: evaluation, checkpoints, resume, progress, metrics.jsonl).
#pragma once
#include "models/generator.h"
#include "trainers/loop/loop.h"
#include "trainers/loop/run_config.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

// Minibatches in an order that is a function of (seed, epoch) alone, so a resumed run replays it.
class BatchOrder {
 public:
  // `key`: the config key of `batch`, named when it exceeds the data's `size`.
  BatchOrder(int64_t size, int64_t batch, uint64_t seed, const char* key);
  std::vector<size_t> rows(int64_t step);

 private:
  int64_t size_, batch_;
  uint64_t seed_;
  std::vector<size_t> order_;
  int64_t epoch_ = -1;
};

struct StepResult {
  double loss, grad_norm, lr, tokens;
};
// This rank's share of the token-mean cross-entropy of `rows` of `data` (a global batch, sharded
// over the ranks of a data-parallel job: the shares sum to the whole batch's mean, so do their
// gradients); `tokens` gets the batch's token count over all ranks.
// dropout_seed: the training pass's masks (dropout_seed() below); none: nothing dropped.
Tensor mle_loss_share(const Generator& g, const Task& task, const Sequences& data, const std::vector<size_t>& rows,
                      double& tokens, std::optional<uint64_t> dropout_seed = std::nullopt);

// The Philox seed of a training pass's dropout masks: distinct for each run seed, step, use (the
// generator's loss, its MLE term, D's batch) and data-parallel rank, and the same on --resume.
uint64_t dropout_seed(uint64_t seed, int64_t step, uint64_t use);

// The step's loss summed over ranks, read from the device (a wait for it: so only at logging
// steps); a NaN or infinite loss is an error naming the optimiser step it came before.
double logged_loss(const Tensor& loss, const AdamW& opt);

// One MLE step on `rows` of `data`: loss (before the update; NaN unless read_loss, which
// logged_loss checks), backward, AdamW (which refuses a non-finite gradient norm every step).
StepResult mle_step(Generator& g, AdamW& opt, const Task& task, const Sequences& data, const std::vector<size_t>& rows,
                    bool read_loss = true, std::optional<uint64_t> dropout_seed = std::nullopt);

// Trains (or resumes from <run_dir>/checkpoint) and returns the process exit code.
int train_mle(const RunConfig& cfg, RunStart start);

// The generator from a checkpoint folder, or hf_gpt2:DIR, in the shape the checkpoint records
// (errors name the file and tensor). With a task, the checkpoint's vocabulary must be the task's;
// a tensor of the generator that its shape does not use is an error.
Generator load_generator(const RunConfig& cfg, const CheckpointRef& from, const Task* task);

// A fresh run's start: the weights of model.init, when set (not on --resume: the run's own
// checkpoint holds them). A checkpoint must fit cfg.model and the task's vocabulary exactly.
void init_generator(const RunConfig& cfg, Generator& g, const Task& task);

}  // namespace coopgen
