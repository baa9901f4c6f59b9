// The top-level config of a coopgen run: one struct per section, each listing its keys once.
#pragma once
#include <cstdint>
#include <string>

#include "engine/config.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "models/generator.h"

namespace coopgen {

struct DataConfig {
  // oracle: the SeqGAN synthetic task; text: one sentence per line; pairs: conditional
  // generation from <file>.src.txt → <file>.tgt.txt line pairs, trained as <bos> src <sep> tgt <eos>
  std::string task = "oracle";
  std::string oracle = "../shared/data/oracle/seqgan_oracle_lstm.safetensors";
  int64_t train_size = 10000;  // oracle samples to train on (SeqGAN: 10,000)
  int64_t test_size = 10000;   // held-out oracle samples for NLL-test
  uint64_t seed = 1;           // the data sets' own seed: the same for every method and run seed
  std::string train_file;      // text: whitespace-tokenised training sentences (pairs: the files' stem)
  std::string test_file;       // text: held-out sentences (NLL-test, BLEU references) (pairs: stem)
  int64_t min_count = 1;       // text: words seen fewer times map to <unk>
  template <class V> void visit(V& v) {
    v.one_of("task", task, {"oracle", "text", "pairs"});
    v("oracle", oracle);
    v("train_size", train_size);
    v("test_size", test_size);
    v("seed", seed);
    v("train_file", train_file);
    v("test_file", test_file);
    v("min_count", min_count);
  }
};

struct TrainConfig {
  int64_t steps = 1000;
  int64_t batch_size = 64;
  int64_t log_every = 50;
  int64_t eval_every = 250;        // 0: only at the end
  int64_t checkpoint_every = 500;  // 0: only at the end
  int64_t eval_samples = 1000;     // generator samples scored at each evaluation
  template <class V> void visit(V& v) {
    v("steps", steps);
    v("batch_size", batch_size);
    v("log_every", log_every);
    v("eval_every", eval_every);
    v("checkpoint_every", checkpoint_every);
    v("eval_samples", eval_samples);
  }
};

struct RunConfig {
  std::string device = "cpu";  // cpu | cuda
  uint64_t seed = 0;           // model initialisation, data order, sampling
  std::string run_dir = "runs/default";
  GeneratorConfig model;
  DataConfig data;
  TrainConfig train;
  OptimConfig optim;
  SamplingConfig sampling;  // for samples and NLL-oracle
  Device backend() const { return device == "cuda" ? Device::CUDA : Device::CPU; }
  template <class V> void visit(V& v) {
    v.one_of("device", device, {"cpu", "cuda"});
    v("seed", seed);
    v("run_dir", run_dir);
    v("model", model);
    v("data", data);
    v("train", train);
    v("optim", optim);
    v("sampling", sampling);
  }
};

}  // namespace coopgen
