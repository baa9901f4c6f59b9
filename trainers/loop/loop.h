// The training loop every `coopgen train` method shares: the run folder (resolved config,
// metrics.jsonl, checkpoint/), progress on stderr (a bar on a TTY, lines otherwise), periodic
// evaluation and checkpoints, bit-identical resume on CPU, and a checkpoint on SIGINT/SIGTERM.
// A method supplies only its step and its evaluation.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/io.h"
#include "engine/optim.h"
#include "trainers/loop/run_config.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

// Parameters and their optimiser, saved together in the checkpoint (names must not clash).
struct Trained {
  NamedTensors* params;
  AdamW* opt;
};

struct LoopHooks {
  std::string banner;  // the first line printed
  // Step `step` (0-based) → its metrics: "loss" is shown in the progress line, "tokens" becomes
  // tokens_per_s; all others are logged as they are. `log`: this step's metrics are written
  // (train.log_every); values that cost a host synchronisation (the loss) are read only then.
  std::function<Metrics(int64_t step, bool log)> step;
  std::function<Metrics()> evaluate;
  int32_t start_token = -1, end_token = -1;  // the task's (−1: none), saved with each checkpoint
};

// Creates the run folder and writes the resolved config into it (rank 0): called first thing, so a
// folder that cannot be written is reported before data are read or anything is trained.
void prepare_run_dir(const RunConfig& cfg);

// Runs steps up to cfg.train.steps (from <run_dir>/checkpoint with `resume`); returns the exit code.
int run_training(const RunConfig& cfg, const std::vector<Trained>& trained, const LoopHooks& hooks, bool resume);

// Sets `model` to the generator shape a checkpoint's trainer_state.json records (model.d_model,
// model.layers, model.heads, model.max_len: written since 2026-11-30, so `coopgen export` and
// `coopgen logits` need no config); a key it lacks keeps `model`'s value.
void apply_stored_shape(TransformerConfig& model, const TrainerState& st);

// Copies each of `params` from `tensors` (a checkpoint's); errors name the folder and tensor.
void load_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir);

}  // namespace coopgen
