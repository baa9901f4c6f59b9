// The training loop every `coopgen train` method shares: the run folder (resolved config,
// metrics.jsonl, checkpoint/), progress on stderr (a bar on a TTY, lines otherwise), periodic
// evaluation and checkpoints, bit-identical resume on CPU, and a checkpoint on SIGINT/SIGTERM.
// A method supplies only its step and its evaluation.
#pragma once
#include <cmath>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
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

// What one training step reports to the loop.
struct StepReport {
  double loss = std::nan("");  // the training loss, logged first and shown in the progress line; NaN: not read
  double tokens = 0;           // tokens trained on, over all ranks: tokens_per_s
  Metrics metrics;             // logged as they are, after the loss
};

struct LoopHooks {
  std::string banner;  // the first line printed
  // Step `step` (0-based) → its report. `log`: this step's metrics are written (train.log_every);
  // values that cost a host synchronisation (the loss) are read only then.
  std::function<StepReport(int64_t step, bool log)> step;
  std::function<Metrics()> evaluate;
  // The run's task: its start and end tokens and its vocabulary are saved with each checkpoint
  // (and a word vocabulary as run_dir/vocab.txt).
  const Task* task = nullptr;
};

// How `coopgen train` treats its run folder. A folder that holds a run (a checkpoint/ or a
// metrics.jsonl) is never trained over by accident: Fresh refuses it, Resume continues it from its
// checkpoint, Overwrite (--overwrite) deletes the run's own files first (files coopgen did not
// write are left alone).
enum class RunStart { Fresh, Resume, Overwrite };

// The largest tensors a run's generator forms, estimated from the config before anything is
// allocated: a training batch of `rows` sequences (its logits, their gradient and softmax, 12 bytes
// × rows × model.max_len × the vocabulary, or model.output_chunk of it) and a draw of
// train.eval_samples sequences (4 bytes × rows × vocabulary per token). Either past this machine's
// memory is an error naming `key` and its value.
void check_batch_fits(const RunConfig& cfg, int64_t rows, const char* key, int64_t vocab);

// Creates the run folder as `start` says and writes the resolved config into it (rank 0): called
// first thing, so a folder that cannot be written, or holds a run, is reported before data are read
// or anything is trained.
void prepare_run_dir(const RunConfig& cfg, RunStart start);

// Runs steps up to cfg.train.steps (from <run_dir>/checkpoint with RunStart::Resume); returns the
// exit code.
int run_training(const RunConfig& cfg, const std::vector<Trained>& trained, const LoopHooks& hooks, RunStart start);

// Sets `model` to the generator shape a checkpoint's trainer_state.json records (model.d_model,
// model.layers, model.heads, model.max_len: written since 2026-11-30, so `coopgen export` and
// `coopgen logits` need no config); a key it lacks keeps `model`'s value.
// Sizes are validated (a whole number within the config's limits); `dir` names the checkpoint.
void apply_stored_shape(TransformerConfig& model, const TrainerState& st, const std::string& dir);

// A checkpoint against what it is loaded into: the generator shape it records (model.d_model,
// model.layers, model.heads, model.max_len) must be `model`'s and, with a task, its vocabulary
// (task.vocabulary: token count and hash) the task's; otherwise an error naming the key, the
// stored and the requested value. Keys an older checkpoint lacks are not compared.
void check_checkpoint_fits(const TrainerState& st, const TransformerConfig& model, const Task* task, const std::string& dir);

// Copies each of `params` from `tensors` (a checkpoint's) and adds their names to `used` when
// given; errors name the folder and tensor.
void load_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir,
                 std::set<std::string>* used = nullptr);

// A tensor of `tensors` that no load took (e.g. the layers of a deeper model): an error naming it,
// since ignoring it and saving over the checkpoint would lose it. Names starting with one of
// `others` belong to another model of the checkpoint (a generator's load leaves adamw. and disc.).
void refuse_unused(const std::map<std::string, Tensor>& tensors, const std::set<std::string>& used,
                   const std::string& dir, std::initializer_list<std::string_view> others = {});

}  // namespace coopgen
