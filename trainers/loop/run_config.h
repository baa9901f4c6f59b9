// The top-level config of a coopgen run: one struct per section, each listing its keys once.
#pragma once
#include <cstdint>
#include <string>

#include "engine/config.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "models/generator.h"
#include "trainers/decoding/decoders.h"
#include "trainers/discriminators/kinds.h"
#include "trainers/methods/weights.h"

namespace coopgen {

// How text becomes token ids (data.task text): words (the vocabulary of the training file, the
// default for the benchmark sets) or GPT-2's byte-level BPE from vocab.json and merges.txt (the
// tokenizer of a GPT-2 checkpoint: model.init hf_gpt2:DIR).
enum class TokenizerKind { word, gpt2_bpe };
constexpr std::array<const char*, 2> config_names(TokenizerKind) { return {"word", "gpt2_bpe"}; }
struct TokenizerConfig {
  TokenizerKind kind = TokenizerKind::word;
  std::string vocab;   // gpt2_bpe: vocab.json
  std::string merges;  // gpt2_bpe: merges.txt
  template <class V> void visit(V& v) {
    v("kind", kind);
    v("vocab", vocab);
    v("merges", merges);
  }
};

// oracle: the SeqGAN synthetic task; text: one sentence per line; pairs: conditional generation
// from <file>.src.txt → <file>.tgt.txt line pairs, trained as <bos> src <sep> tgt <eos>.
enum class TaskKind { oracle, text, pairs };
constexpr std::array<const char*, 3> config_names(TaskKind) { return {"oracle", "text", "pairs"}; }

struct DataConfig {
  TaskKind task = TaskKind::oracle;
  std::string oracle = "../shared/data/oracle/seqgan_oracle_lstm.safetensors";
  int64_t train_size = 10000;  // oracle samples to train on (SeqGAN: 10,000)
  int64_t test_size = 10000;   // held-out oracle samples for NLL-test
  // The validation split that chooses checkpoints and stops training (nll_valid; never the test
  // set): oracle, valid_size fresh oracle samples of their own seed; text and pairs, valid_file
  // when set, else the last valid_fraction of the training file's usable lines, held out before
  // the vocabulary is built (0: no validation split).
  int64_t valid_size = 2000;
  std::string valid_file;
  double valid_fraction = 0.05;
  uint64_t seed = 1;           // the data sets' own seed: the same for every method and run seed
  std::string train_file;      // text: whitespace-tokenised training sentences (pairs: the files' stem)
  std::string test_file;       // text: held-out sentences (NLL-test, BLEU references) (pairs: stem)
  int64_t min_count = 1;       // text, word tokenizer: words seen fewer times map to <unk>
  TokenizerConfig tokenizer;   // text
  template <class V> void visit(V& v) {
    v("task", task);
    v("oracle", oracle);
    v("train_size", train_size, Range{1, kMaxSequences});
    v("test_size", test_size, Range{1, kMaxSequences});
    v("valid_size", valid_size, Range{0, kMaxSequences});
    v("valid_file", valid_file);
    v("valid_fraction", valid_fraction, Range{0, 0.5});
    v("seed", seed);
    v("train_file", train_file);
    v("test_file", test_file);
    v("min_count", min_count, Range{1, kUnbounded});
    v("tokenizer", tokenizer);
  }
};

struct TrainConfig {
  int64_t steps = 1000;
  int64_t batch_size = 64;
  int64_t log_every = 50;
  int64_t eval_every = 250;        // 0: only at the end
  int64_t checkpoint_every = 500;  // 0: only at the end
  int64_t eval_samples = 1000;     // generator samples scored at each evaluation
  // With a validation split: each evaluation whose nll_valid is the lowest so far saves the run as
  // run_dir/checkpoint_best (a model.init like any checkpoint: the early-stopped model).
  bool keep_best = true;
  // Early stopping: training ends after this many evaluations in a row without a lower nll_valid
  // (0: never); the best checkpoint is the result.
  int64_t patience = 0;
  template <class V> void visit(V& v) {
    v("steps", steps, Range{0, kUnbounded});
    v("batch_size", batch_size, Range{1, kMaxBatch});
    v("log_every", log_every, Range{0, kUnbounded});
    v("eval_every", eval_every, Range{0, kUnbounded});
    v("checkpoint_every", checkpoint_every, Range{0, kUnbounded});
    v("eval_samples", eval_samples, Range{1, kMaxSequences});
    v("keep_best", keep_best);
    v("patience", patience, Range{0, kUnbounded});
  }
};

// Where a learned D's fakes come from: p (the default: D then approaches D* = p*/(p*+p), the D
// for which GCN's target p·D has the data as its only fixed point; docs/method.md) or the proposal q̂.
enum class FakesFrom { p, proposal };
constexpr std::array<const char*, 2> config_names(FakesFrom) { return {"p", "proposal"}; }

// The discriminator of the adversarial methods and how it is trained: binary cross-entropy, real
// sequences from the training data against fakes from the generator.
struct DiscriminatorTrainConfig {
  // What D is (trainers/discriminators/kinds.def): learned, the transformer below, trained as this
  // section says; optimal, the oracle task's exact D* = p*/(p* + p) of the current generator
  // (models/optimal_discriminator.h), never trained.
  std::string kind = "learned";
  double logit_noise = 0.0;  // optimal: σ of the fixed N(0, σ²) error added to D*'s logit per sequence
  double logit_scale = 1.0;  // optimal: β, D's logit β·log(p*/p): a tempered D* (models/optimal_discriminator.h)
  TransformerConfig model{32, 2, 2, 21, 0.02};
  OptimConfig optim;
  int64_t batch_size = 64;   // real and fake sequences per step (each)
  int64_t steps = 1;         // k: discriminator steps per generator step
  int64_t pretrain_steps = 0;  // before the first generator step (not on --resume)
  // Early stopping of that pre-training (0: off): D's binary cross-entropy on held-out data — the
  // validation split's real sequences (up to train.eval_samples) against as many fakes drawn once as
  // its training fakes are — at the start and every pretrain_eval_every steps; pre-training ends
  // after this many evaluations in a row without a lower one, and D is restored to its best.
  int64_t pretrain_patience = 0;
  int64_t pretrain_eval_every = 25;
  FakesFrom fakes = FakesFrom::p;
  bool causal = false;               // left-to-right attention (scores prefixes as they grow)
  // Start D's transformer from the generator it judges (model must equal the generator's): D then
  // begins with what p knows about the data, instead of learning it from the real batches alone.
  bool init_from_generator = false;
  // Start D from the discriminator of a checkpoint folder (an adversarial run's; e.g. one run with
  // train.steps 0 that only pre-trains D), so every method starts from the same D; or from the body
  // of a GPT-2 checkpoint, hf_gpt2:DIR (models/gpt2.h), with a fresh head.
  CheckpointRef init_checkpoint;
  // Fraction of each batch's real and fake rows cut to a uniformly drawn proper prefix (the same
  // for both sides, so length says nothing), so D learns to score the unfinished sequences the
  // cooperative decoders ask it about (decoding.decoder mcts | das).
  double prefix_fraction = 0.0;
  // A gate before the generator's first step: after pretrain_steps, D keeps training until its
  // accuracy over the last 20 batches reaches this (0: off), for at most warmup_max_steps steps.
  double warmup_until_accuracy = 0.0;
  int64_t warmup_max_steps = 2000;
  template <class V> void visit(V& v) {
    v.one_of("kind", kind, discriminator_kind_names());
    v("logit_noise", logit_noise, Range{0, kUnbounded});
    v("logit_scale", logit_scale, Range{0, kUnbounded, true});
    v("model", model);
    v("optim", optim);
    v("batch_size", batch_size, Range{1, kMaxBatch});
    v("steps", steps, Range{0, kUnbounded});
    v("pretrain_steps", pretrain_steps, Range{0, kUnbounded});
    v("pretrain_patience", pretrain_patience, Range{0, kUnbounded});
    v("pretrain_eval_every", pretrain_eval_every, Range{1, kUnbounded});
    v.require("pretrain_patience", pretrain_patience == 0 || pretrain_steps > 0,
              "stops discriminator.pretrain_steps early: set pretrain_steps too");
    v("fakes", fakes);
    v("causal", causal);
    v("init_from_generator", init_from_generator);
    v("init_checkpoint", init_checkpoint);
    v("prefix_fraction", prefix_fraction, Range{0, 1});
    v("warmup_until_accuracy", warmup_until_accuracy, Range{0, 1, false, true});
    v("warmup_max_steps", warmup_max_steps, Range{0, kUnbounded});
  }
};

// The generator step of GAN, RML-GAN and GCN (docs/method.md has the equations).
struct AdversarialConfig {
  int64_t samples = 64;         // M sequences per generator step
  int64_t candidates = 256;     // RML-GAN: N ≥ M drawn from the proposal, M resampled ∝ q/q̂
  int64_t sources = 8;          // conditional tasks: training sources per step, each with M samples (N for RML-GAN)
  SamplingConfig proposal;      // q̂ (RML-GAN, GCN); GAN's policy gradient needs p itself
  // q ∝ p·D (p_d, as the method states it) or p·D/(1−D) (p_d_odds: the data itself when D is
  // optimal, with weights unbounded as D → 1).
  Target target = Target::p_d;
  // GAN: subtract the mean reward. GCN: subtract p's own self-normalised weights (a control
  // variate with expectation zero: the expected step is unchanged, its variance smaller).
  bool baseline = false;
  double entropy_bonus = 0.0;   // GAN: β in the reward D(y) − β log p(y)
  double mle_weight = 0.0;      // λ: + λ · cross-entropy on a batch of real data
  template <class V> void visit(V& v) {
    v("samples", samples, Range{1, kMaxBatch});
    v("candidates", candidates, Range{1, kMaxSequences});
    v("sources", sources, Range{1, kMaxBatch});
    v("proposal", proposal);
    v("target", target);
    v.require("target", target != Target::p, "p is the generator itself: an adversarial target is p_d or p_d_odds");
    v("baseline", baseline);
    v("entropy_bonus", entropy_bonus);
    v("mle_weight", mle_weight, Range{0, kUnbounded});
  }
};

// Data-parallel runs (mpirun -np N coopgen train ...; engine/communicator.h).
struct DistributedConfig {
  double timeout_s = 600;  // a collective not finished by then ends the job, naming the rank and the call
  double bucket_mb = 25;   // gradients are summed over ranks in buckets of at most this size, during the backward pass
  template <class V> void visit(V& v) {
    v("timeout_s", timeout_s, Range{0, kUnbounded, true});
    v("bucket_mb", bucket_mb, Range{0, kUnbounded, true});
  }
};

// What a run trains: mle (maximum likelihood on the data), or an adversarial method (docs/method.md).
enum class Method { mle, gan, rml_gan, gcn };
constexpr std::array<const char*, 4> config_names(Method) { return {"mle", "gan", "rml_gan", "gcn"}; }

struct RunConfig {
  Method method = Method::mle;
  Device device = Device::CPU;
  Precision precision = Precision::F32;  // bf16: CUDA kernels with a tensor-core path use bf16 operands (engine/ops.h)
  uint64_t seed = 0;           // model initialisation, data order, sampling
  std::string run_dir = "runs/default";
  GeneratorConfig model;
  DataConfig data;
  TrainConfig train;
  OptimConfig optim;
  SamplingConfig sampling;  // for samples and NLL-oracle
  DiscriminatorTrainConfig discriminator;  // gan | rml_gan | gcn
  AdversarialConfig adversarial;           // gan | rml_gan | gcn
  DecodingConfig decoding;                 // coopgen sample; gcn's proposal when not `sample`
  DistributedConfig distributed;
  // OpenBLAS threads on the CPU backend. 0: the OPENBLAS_NUM_THREADS environment variable when set,
  // else one thread below model.d_model 512 — at coopgen's sizes a second thread gives no speed-up
  // and costs system time (an oracle MLE run of 300 steps: 49.1 s with one, 49.4 s with two plus
  // 38 s of system time), and two runs can then share two cores — else all cores.
  int64_t cpu_threads = 0;
  // The thread count `cpu_threads` resolves to on this machine.
  int resolved_cpu_threads() const;
  template <class V> void visit(V& v) {
    v("method", method);
    v("device", device);
    v("precision", precision);
    v("seed", seed);
    v("run_dir", run_dir);
    v("model", model);
    v("data", data);
    v("train", train);
    v("optim", optim);
    v("sampling", sampling);
    v("discriminator", discriminator);
    v("adversarial", adversarial);
    v("decoding", decoding);
    v("distributed", distributed);
    v("cpu_threads", cpu_threads, Range{0, 1024});
  }
};

}  // namespace coopgen
