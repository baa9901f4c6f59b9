// Maximum-likelihood training of the generator, with periodic evaluation (the task's metrics),
// checkpoints, bit-identical resume on CPU, and a checkpoint on SIGINT/SIGTERM. Progress goes to
// stderr (a bar on a TTY, lines otherwise) and every metric to <run_dir>/metrics.jsonl.
#pragma once
#include "models/generator.h"
#include "trainers/run_config.h"
#include "trainers/tasks.h"

namespace coopgen {

// Trains (or resumes from <run_dir>/checkpoint) and returns the process exit code.
int train_mle(const RunConfig& cfg, bool resume);

// The generator from a checkpoint folder (errors name the file and tensor).
Generator load_generator(const RunConfig& cfg, const std::string& checkpoint_dir);

}  // namespace coopgen
