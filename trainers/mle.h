// Maximum-likelihood training of the generator on the synthetic oracle task, with periodic
// evaluation (NLL-oracle, NLL-test), checkpoints, bit-identical resume on CPU, and a checkpoint
// on SIGINT/SIGTERM. Progress goes to stderr (a bar on a TTY, lines otherwise) and every metric
// to <run_dir>/metrics.jsonl.
#pragma once
#include "models/generator.h"
#include "models/oracle.h"
#include "trainers/run_config.h"

namespace coopgen {

struct OracleTask {
  OracleLSTM oracle;
  Sequences train, test;
  explicit OracleTask(const RunConfig& cfg);
};

struct OracleMetrics {
  double nll_oracle = 0;  // oracle NLL of the generator's samples (quality)
  double nll_test = 0;    // generator NLL of held-out oracle samples (coverage)
};

// Mean per-token NLL of `seqs` (each after the start token) under the generator.
double generator_nll(const Generator& g, const Sequences& seqs, int64_t batch = 256);
OracleMetrics evaluate_oracle(const Generator& g, const OracleTask& task, const RunConfig& cfg);

// Trains (or resumes from <run_dir>/checkpoint) and returns the process exit code.
int train_mle(const RunConfig& cfg, bool resume);

// The generator and its state from <run_dir>/checkpoint (errors name the file and tensor).
Generator load_generator(const RunConfig& cfg, const std::string& checkpoint_dir);

}  // namespace coopgen
