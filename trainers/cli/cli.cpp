#include "trainers/cli/cli.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <optional>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/parse.h"
#include "engine/allocator.h"
#include "engine/communicator.h"
#include "engine/device.h"
#include "engine/io.h"
#include "engine/ops.h"
#include "engine/utf8.h"
#include "models/bpe.h"
#include "models/gpt2.h"
#include "trainers/decoding/decoders.h"
#include "trainers/eval/bleu.h"
#include "trainers/eval/rouge.h"
#include "trainers/eval/sweep.h"
#include "trainers/loop/loop.h"
#include "trainers/loop/run_config.h"
#include "trainers/methods/enumerable.h"
#include "trainers/methods/mle.h"
#include "trainers/methods/with_discriminator.h"

namespace coopgen {

namespace {

int print_bleu(const std::string& hyp_path, const std::string& ref_path, int64_t max_hyp);

// The most a count flag (--num, --max, --reverse-steps) may ask for.
constexpr int64_t kMaxFlagCount = 1'000'000'000;

// An output file a command is about to write: refused when it is one of the command's `inputs`
// (the same file by any path), or already exists and `overwrite` was not given, so nothing a user
// has on disk is replaced unless they asked.
void check_output(const std::string& cmd, const std::string& path, bool overwrite, const std::vector<std::string>& inputs) {
  std::error_code ec;
  for (const std::string& in : inputs)
    if (std::filesystem::equivalent(path, in, ec)) fail(cmd, ": ", path, " is also an input of this command");
  if (std::filesystem::exists(path) && !overwrite) fail(cmd, ": ", path, " exists (replace it with --overwrite)");
}

// Takes "--overwrite" out of `args`; true when it was there.
bool take_overwrite(std::vector<std::string>& args) {
  const auto at = std::remove(args.begin(), args.end(), std::string("--overwrite"));
  const bool found = at != args.end();
  args.erase(at, args.end());
  return found;
}

// Draws a picture with scripts/plot.py (matplotlib; $COOPGEN_PLOT names another copy of it) and
// says where it is, or, without python3 and matplotlib, how to draw it later. args[1] is the file.
void draw(const std::vector<std::string>& args) {
  const char* env = std::getenv("COOPGEN_PLOT");
  std::string cmd = std::string("python3 '") + (env && *env ? env : COOPGEN_PLOT_SCRIPT) + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  if (std::system((cmd + " 2>/dev/null").c_str()) == 0) std::printf("drew %s\n", args[1].c_str());
  else std::printf("%s not drawn (needs python3 with matplotlib): %s\n", args[1].c_str(), cmd.c_str());
}

// Options shared by the commands that take a config: --config, --device, overrides; the rest
// (command-specific flags with a value) are returned in `extra`.
struct ConfigArgs {
  RunConfig cfg;
  std::map<std::string, std::string> extra;
  RunStart start = RunStart::Fresh;  // train: --resume, --overwrite
  std::string config_file;
};

ConfigArgs parse_config_args(const std::string& cmd, const std::vector<std::string>& args,
                             const std::vector<std::string>& flags_with_value, bool allow_run_start) {
  ConfigArgs out;
  std::string file;
  std::vector<std::string> overrides;
  for (size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    auto value = [&]() -> std::string {
      if (k + 1 >= args.size()) fail(cmd, ": ", a, " needs a value");
      return args[++k];
    };
    if (a == "--config" && !file.empty()) fail(cmd, ": --config is given twice");
    if (a == "--config") file = value();
    else if (a == "--device") overrides.push_back("device=" + value());
    else if ((a == "--resume" || a == "--overwrite") && allow_run_start) {
      if (out.start != RunStart::Fresh) fail(cmd, ": --resume and --overwrite exclude each other");
      out.start = a == "--resume" ? RunStart::Resume : RunStart::Overwrite;
    }
    else if (std::find(flags_with_value.begin(), flags_with_value.end(), a) != flags_with_value.end()) {
      if (out.extra.count(a)) fail(cmd, ": ", a, " is given twice");
      out.extra[a] = value();
    }
    else if (a.find('=') != std::string::npos && a[0] != '-') overrides.push_back(a);
    else fail(cmd, ": unexpected argument '", a, "' (see coopgen ", cmd, " --help)");
  }
  if (file.empty()) fail(cmd, ": --config FILE is required");
  out.config_file = file;
  out.cfg = load_config<RunConfig>(file, overrides);
  // A GPT-2 checkpoint to start from sets the transformer's shape (models/gpt2.h).
  out.cfg.model = with_gpt2_shape(out.cfg.model, out.cfg.model.init);
  out.cfg.discriminator.model = with_gpt2_shape(out.cfg.discriminator.model, out.cfg.discriminator.init_checkpoint);
  set_cpu_threads(out.cfg.resolved_cpu_threads());
  return out;
}

bool wants_help(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end();
}

int cmd_train(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen train --config FILE [--resume | --overwrite] [--device cpu|cuda] [key.sub=value ...]\n"
                 "Trains the generator with the config's method: mle (maximum likelihood on the task's data),\n"
                 "gan, rml_gan or gcn (with a discriminator, from model.init; docs/method.md),\n"
                 "evaluating the task's metrics every train.eval_every steps. Writes run_dir/config.yaml,\n"
                 "metrics.jsonl and\n"
                 "checkpoint/ (every train.checkpoint_every steps, at the end, and on Ctrl-C).\n"
                 "--resume continues from run_dir/checkpoint (bit-identical on CPU). A run_dir that holds a run\n"
                 "(checkpoint/ or metrics.jsonl) is refused without --resume, or --overwrite, which deletes that\n"
                 "run's files first.\n";
    return 0;
  }
  ConfigArgs a = parse_config_args("train", args, {}, true);
  dist::init(a.cfg.distributed.timeout_s);  // under mpirun: one rank of a data-parallel job
  return a.cfg.method == Method::mle ? train_mle(a.cfg, a.start) : train_with_discriminator(a.cfg, a.start);
}

// --decoder (default decoding.decoder) into the config, checked before any file is read.
void apply_decoder_flag(ConfigArgs& a) {
  std::string& decoder = a.cfg.decoding.decoder;
  if (a.extra.count("--decoder")) decoder = a.extra["--decoder"];
  decoder_named(decoder, "--decoder");
}

// `eval` and `sweep` score the generator's own samples unless --decoder names a final sampler: a
// run's decoding.decoder is its training proposal (and training's evaluations score p's samples).
void apply_final_decoder_flag(ConfigArgs& a) {
  if (!a.extra.count("--decoder")) a.cfg.decoding = DecodingConfig{};
  apply_decoder_flag(a);
}

// --checkpoint DIR or hf_gpt2:DIR; the run's own checkpoint/ by default.
CheckpointRef checkpoint_flag(const ConfigArgs& a) {
  return CheckpointRef::parse(a.extra.count("--checkpoint") ? a.extra.at("--checkpoint") : a.cfg.run_dir + "/checkpoint");
}

// For the cooperative decoders, the discriminator and its scorer (empty for the sampler), of
// kind discriminator.kind: e.g. the checkpoint folder's learned D, or the oracle's D* of `g`.
struct DecoderSetup {
  std::unique_ptr<Discriminator> d;
  PrefixScorer score;
  DecoderSetup(const RunConfig& cfg, const CheckpointRef& from, const Generator& g, const Task& task) {
    if (!decoder_named(cfg.decoding.decoder).cooperative) return;
    d = make_discriminator({cfg, task, g, from, "decoder " + cfg.decoding.decoder});
    score = d->scorer();
  }
  // A cooperative decoder is the final sampler the evaluation scores; the sampler is p itself.
  SamplesFrom from() const { return score ? SamplesFrom::decoder : SamplesFrom::sampler; }
};

// The decoders and discriminator kinds this build knows (their registries), for --help.
std::string registry_help() {
  std::string out = "decoders (--decoder, decoding.decoder):\n";
  for (const DecoderKind& k : decoders())
    out += cat("  ", k.name, std::string(18 - std::min<size_t>(k.name.size(), 17), ' '), k.about,
               k.cooperative ? " [cooperative]" : "", "\n");
  out += "discriminator kinds (discriminator.kind):\n";
  for (const DiscriminatorKind& k : discriminator_kinds())
    out += cat("  ", k.name, std::string(18 - std::min<size_t>(k.name.size(), 17), ' '), k.about, "\n");
  out += "metrics (each where the task and discriminator allow):\n";
  for (const MetricKind& k : metrics())
    out += cat("  ", k.name, std::string(18 - std::min<size_t>(k.name.size(), 17), ' '), k.about, "\n");
  return out;
}

int cmd_sample(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen sample --config FILE [--checkpoint DIR] [--num N] [--decoder NAME] [key.sub=value ...]\n"
                 "Prints N sequences (default 10), one per line: the tokens, then log p and log q̂ of the\n"
                 "sequence. DIR defaults to run_dir/checkpoint. The decoder defaults to decoding.decoder; a\n"
                 "cooperative one is guided by the discriminator of the config's discriminator section: a\n"
                 "learned D is read from the checkpoint (an adversarial run's). The decoding rate\n"
                 "(sequences/s) goes to stderr.\n\n"
              << registry_help();
    return 0;
  }
  ConfigArgs a = parse_config_args("sample", args, {"--checkpoint", "--num", "--decoder"}, false);
  apply_decoder_flag(a);
  const CheckpointRef from = checkpoint_flag(a);
  const int64_t n = a.extra.count("--num") ? whole_flag("--num", a.extra["--num"], 1, kMaxFlagCount) : 10;
  const std::unique_ptr<Task> task = Task::create(a.cfg);
  const Generator g = load_generator(a.cfg, from, task.get());
  const DecoderSetup decoder(a.cfg, from, g, *task);
  const auto t0 = std::chrono::steady_clock::now();
  // Conditional tasks: the first N test sources.
  const SampledSet s = task->decode(g, task->leading_prompts(task->test, n), a.cfg.decoding, a.cfg.sampling,
                                    decoder.score, a.cfg.seed + 7);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t r = 0; r < s.seqs.size(); ++r) {
    std::vector<int32_t> q = s.seqs[r];
    task->cut_at_eos(q);
    std::printf("%s\tlogp %.4f\tlogq %.4f\n", task->render(q).c_str(), s.logp[r], s.logq[r]);
  }
  std::fprintf(stderr, "decoder %s: %zu sequences in %.3f s, %.2f sequences/s (device %s)\n", a.cfg.decoding.decoder.c_str(),
               s.seqs.size(), seconds, double(s.seqs.size()) / std::max(seconds, 1e-9), name_of(a.cfg.device));
  return 0;
}

int cmd_eval(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen eval --config FILE [--checkpoint DIR [--decoder NAME] |\n"
                 "                    --hyp FILE [--ref FILE]]\n"
                 "                    [key.sub=value ...]\n"
                 "With --hyp: BLEU-2..5 of the file's lines against --ref (default data.test_file) and their\n"
                 "Self-BLEU-2..5 (e.g. real test sentences against the training file: COCO gives BLEU-2 ≈ 0.78).\n"
                 "The task's metrics of a checkpoint (oracle: NLL-oracle of train.eval_samples samples and\n"
                 "NLL-test; text: NLL-test, BLEU-2..5 against the test file, Self-BLEU-2..5 of the samples;\n"
                 "pairs: NLL-test, and corpus BLEU-4 and ROUGE-1/2/L of the targets decoded from the first\n"
                 "train.eval_samples test sources). The samples and targets are the generator's own (the\n"
                 "sampling section), as training's evaluations score them, whatever decoding.decoder says; with\n"
                 "a cooperative --decoder they are that decoder's, guided by the discriminator (the checkpoint's\n"
                 "learned or likelihood-ratio D, or D*), drawing its candidates or proposals from the sampling\n"
                 "section: the cooperative final sampler, q̂ ∝ p·D (target_gain then says how much closer its\n"
                 "exact target q is to the data than p). DIR defaults to run_dir/checkpoint.\n\n"
              << registry_help();
    return 0;
  }
  ConfigArgs a = parse_config_args("eval", args, {"--checkpoint", "--hyp", "--ref", "--decoder"}, false);
  apply_final_decoder_flag(a);
  if (a.extra.count("--hyp"))  // a text file of samples (or real sentences), scored like a checkpoint's samples
    return print_bleu(a.extra["--hyp"], a.extra.count("--ref") ? a.extra["--ref"] : a.cfg.data.test_file, 0);
  const CheckpointRef from = checkpoint_flag(a);
  const std::unique_ptr<Task> task = Task::create(a.cfg);
  const Generator g = load_generator(a.cfg, from, task.get());
  const DecoderSetup decoder(a.cfg, from, g, *task);
  for (auto& [name, value] : task->evaluate(g, a.cfg, decoder.score, 0, decoder.from()))
    std::printf("%s %.4f\n", name.c_str(), value);
  return 0;
}

int cmd_sweep(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen sweep --config FILE --lm-checkpoint DIR [--checkpoint DIR] [--alphas A,B,..]\n"
                 "                     [--reverse-steps N] [--decoder NAME] [--overwrite] [key.sub=value ...]\n"
                 "Caccia et al.'s protocol: for each α (logits × α; default 0.9,1,1.1,1.2,1.5,2,3,4) draws\n"
                 "train.eval_samples samples and reports the LM score (their NLL under the evaluator LM at\n"
                 "--lm-checkpoint, an MLE model of real data), the reverse LM score (the test data's NLL under\n"
                 "a fresh model trained N steps, default 500, on the samples) and the task's metrics.\n"
                 "With a cooperative --decoder (e.g. rerank) the samples are that decoder's, guided by the\n"
                 "discriminator (the checkpoint's learned or likelihood-ratio D, or D*), its candidates or\n"
                 "proposals drawn from the sampling section at temperature 1/α: the cooperative final sampler's\n"
                 "curve. Without --decoder, the generator's own samples whatever decoding.decoder says.\n"
                 "Writes run_dir/sweep/sweep.csv and draws sweep.png (reverse LM score against LM score) with\n"
                 "scripts/plot.py (python3 with matplotlib). A sweep.csv already there is refused unless --overwrite.\n\n"
              << registry_help();
    return 0;
  }
  const bool overwrite = take_overwrite(args);
  ConfigArgs a = parse_config_args("sweep", args, {"--checkpoint", "--lm-checkpoint", "--alphas", "--reverse-steps", "--decoder"}, false);
  apply_final_decoder_flag(a);
  if (!a.extra.count("--lm-checkpoint")) fail("sweep: --lm-checkpoint DIR (the evaluator LM) is required");
  const CheckpointRef from = checkpoint_flag(a);
  // 1.1 and 1.2 because the frontier bends just past α = 1: EMNLP News' MLE* has its lowest
  // reverse LM score at 1.1, better in both scores than at 1 (docs/results.md).
  const std::vector<double> alphas = a.extra.count("--alphas") ? number_list_flag("--alphas", a.extra["--alphas"], 1e-3, 1e3)
                                                                : std::vector<double>{0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0, 4.0};
  const int64_t reverse_steps =
      a.extra.count("--reverse-steps") ? whole_flag("--reverse-steps", a.extra["--reverse-steps"], 1, kMaxFlagCount) : 500;
  check_output("sweep", a.cfg.run_dir + "/sweep/sweep.csv", overwrite, {});
  std::unique_ptr<Task> task = Task::create(a.cfg);
  const Generator g = load_generator(a.cfg, from, task.get()),
                  evaluator = load_generator(a.cfg, CheckpointRef::parse(a.extra["--lm-checkpoint"]), task.get());
  const DecoderSetup decoder(a.cfg, from, g, *task);
  const auto points = temperature_sweep(g, evaluator, *task, a.cfg, alphas, reverse_steps, decoder.score, decoder.from());
  write_sweep(a.cfg.run_dir + "/sweep", points);
  const std::string png = a.cfg.run_dir + "/sweep/sweep.png";
  for (const SweepPoint& p : points) {
    std::printf("alpha %.3f", p.alpha);
    for (auto& [name, v] : p.metrics) std::printf(" %s %.4f", name.c_str(), v);
    std::printf("\n");
  }
  std::printf("wrote %s/sweep/sweep.csv\n", a.cfg.run_dir.c_str());
  draw({"sweep", png, a.cfg.run_dir});
  return 0;
}

// BLEU-2..5 of a hypothesis file against a reference file and Self-BLEU-2..5 of the hypotheses.
// Every hypothesis line counts, an empty one (an empty decode) scoring 0 as NLTK scores it; empty
// reference lines are skipped.
int print_bleu(const std::string& hyp_path, const std::string& ref_path, int64_t max_hyp) {
  LineStats rs;
  std::vector<Words> hyp;
  for (const std::string& line : read_text_lines(hyp_path)) hyp.push_back(split_whitespace(line));
  const std::vector<Words> ref = read_corpus(ref_path, 0, rs);
  if (hyp.empty()) fail(hyp_path, ": no hypotheses (an empty file)");
  if (ref.empty()) fail(ref_path, ": no references (no non-empty line)");
  size_t empty = 0;
  for (const Words& h : hyp) empty += h.empty();
  std::fprintf(stderr, "%s: %zu lines (%zu empty, scored 0)\n%s\n", hyp_path.c_str(), hyp.size(), empty,
               rs.summary(ref_path, 0).c_str());
  if (max_hyp > 0 && int64_t(hyp.size()) > max_hyp) hyp.resize(size_t(max_hyp));
  const std::vector<double> b = mean_bleu(hyp, ref), sb = self_bleu(hyp);
  std::printf("hypotheses %zu, references %zu\n", hyp.size(), ref.size());
  for (int n = 2; n <= kMaxBleuOrder; ++n) std::printf("BLEU-%d %.4f  Self-BLEU-%d %.4f\n", n, b[size_t(n - 1)], n, sb[size_t(n - 1)]);
  return 0;
}

// The flags of the commands that score a hypothesis file against a reference file: --hyp and --ref
// (required) and `more`, each with a value.
std::map<std::string, std::string> hyp_ref_flags(const std::string& cmd, const std::vector<std::string>& args,
                                                 const std::vector<std::string>& more) {
  std::map<std::string, std::string> opt;
  for (size_t k = 0; k < args.size(); ++k) {
    const bool known = args[k] == "--hyp" || args[k] == "--ref" || std::find(more.begin(), more.end(), args[k]) != more.end();
    if (known && k + 1 < args.size()) opt[args[k]] = args[k + 1], ++k;
    else fail(cmd, ": unexpected argument '", args[k], "' (see coopgen ", cmd, " --help)");
  }
  if (!opt.count("--hyp") || !opt.count("--ref")) fail(cmd, ": --hyp FILE and --ref FILE are required");
  return opt;
}

int cmd_bleu(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen bleu --hyp FILE --ref FILE [--max N]\n"
                 "Mean BLEU-2..5 of each hypothesis line against the whole reference file (NLTK sentence_bleu,\n"
                 "uniform weights, smoothing method1, closest reference length) and leave-one-out Self-BLEU-2..5\n"
                 "of the hypotheses. --max N uses the first N hypotheses. Lines are whitespace-tokenised.\n";
    return 0;
  }
  std::map<std::string, std::string> opt = hyp_ref_flags("bleu", args, {"--max"});
  return print_bleu(opt["--hyp"], opt["--ref"], opt.count("--max") ? whole_flag("--max", opt["--max"], 1, kMaxFlagCount) : 0);
}

int cmd_score(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen score --hyp FILE --ref FILE\n"
                 "Conditional-generation metrics of line-aligned hypotheses and references: corpus BLEU-4 as\n"
                 "sacreBLEU computes it by default (13a tokenisation, exp smoothing) and ROUGE-1/2/L F1 with\n"
                 "ROUGE-1.5.5's conventions (lower-cased, alphanumeric tokens, no stemming), both ×100.\n";
    return 0;
  }
  std::map<std::string, std::string> opt = hyp_ref_flags("score", args, {});
  const std::vector<std::string> hyp = read_text_lines(opt["--hyp"]), ref = read_text_lines(opt["--ref"]);
  if (hyp.empty()) fail(opt["--hyp"], ": no lines to score");
  if (hyp.size() != ref.size())
    fail(opt["--hyp"], " has ", hyp.size(), " lines but ", opt["--ref"], " has ", ref.size(), " (they must be line-aligned)");
  const RougeScores r = mean_rouge(hyp, ref);
  std::printf("pairs %zu\nBLEU-4 %.4f\nROUGE-1 %.4f\nROUGE-2 %.4f\nROUGE-L %.4f\n", hyp.size(), corpus_bleu(hyp, ref),
              r.rouge1, r.rouge2, r.rouge_l);
  return 0;
}

int cmd_config(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen config --config FILE [key.sub=value ...]\n"
                 "Reads FILE, applies the overrides, checks every key and type, and prints the\n"
                 "resolved config as YAML. Errors name file:line and the key.\n";
    return 0;
  }
  std::cout << dump_config(parse_config_args("config", args, {}, false).cfg);
  return 0;
}

int cmd_inspect(std::vector<std::string> args) {
  if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: coopgen inspect FILE.safetensors | CHECKPOINT_DIR\n"
                 "Validates the file and prints each tensor's dtype, shape and norm.\n";
    return args.size() == 1 ? 0 : 1;
  }
  TrainerState state;
  const bool is_file = args[0].size() > 12 && args[0].ends_with(".safetensors");
  auto tensors = is_file ? load_safetensors(args[0]) : load_checkpoint(args[0], &state);
  for (auto& [name, t] : tensors) {
    double norm = 0;
    if (t.dtype() == DType::F32 || t.dtype() == DType::F64) norm = std::sqrt(sum_squares(t).item());
    std::printf("%-40s %-5s %-16s norm %.6g\n", name.c_str(), std::string(dtype_name(t.dtype())).c_str(),
                shape_str(t.shape()).c_str(), norm);
  }
  for (auto& [k, v] : state.numbers) std::printf("state %s = %.17g\n", k.c_str(), v);
  for (auto& [k, v] : state.strings) std::printf("state %s = %s\n", k.c_str(), v.c_str());
  return 0;
}

int cmd_export(std::vector<std::string> args) {
  std::vector<std::string> rest;
  bool overwrite = false;
  for (const std::string& a : args) a == "--overwrite" ? void(overwrite = true) : rest.push_back(a);
  if (wants_help(args) || rest.size() != 4 || rest[0] != "--format") {
    std::cout << "usage: coopgen export --format hf_gpt2 [--overwrite] CHECKPOINT OUT_DIR\n"
                 "Writes the generator of a checkpoint folder (a run's checkpoint/) as a Hugging Face\n"
                 "transformers GPT-2 folder: config.json and model.safetensors, which\n"
                 "GPT2LMHeadModel.from_pretrained(OUT_DIR) loads (models/gpt2.h has the mapping). The\n"
                 "tokenizer files are not written: copy the run's vocab.json and merges.txt beside them.\n"
                 "An OUT_DIR that holds config.json or model.safetensors is refused unless --overwrite;\n"
                 "the checkpoint's own folder always is.\n";
    return wants_help(args) ? 0 : 1;
  }
  if (rest[1] != "hf_gpt2") fail("export: --format ", rest[1], ": the one format is hf_gpt2");
  const std::string &dir = rest[2], &out = rest[3];
  std::error_code ec;
  if (std::filesystem::equivalent(dir, out, ec))
    fail("export: ", out, " is the checkpoint folder being read (exporting into it would replace its model.safetensors)");
  for (const char* f : {"config.json", "model.safetensors"}) check_output("export", out + "/" + f, overwrite, {});
  TrainerState state;
  load_checkpoint(dir, &state);
  if (!state.numbers.count("model.d_model"))
    fail(dir, "/trainer_state.json: model.d_model is missing (a checkpoint written before 2026-11-30: resume it for one step to re-save it)");
  // Loaded as `sample` loads it: the stored shape, validated, every generator tensor used.
  RunConfig cpu;
  const Generator g = load_generator(cpu, {CheckpointRef::Format::coopgen, dir}, nullptr);
  auto token = [&](const char* key) { return state.numbers.count(key) ? state.count(key, 0, g.vocab() - 1, dir + "/trainer_state.json") : -1; };
  const TransformerConfig& model = g.config();
  export_gpt2(g.params(), model, g.vocab(), token("task.start_token"), token("task.end_token"), out);
  std::printf("wrote %s/config.json and %s/model.safetensors (GPT-2: %lld layers, d_model %lld, %lld heads, %lld positions, vocabulary %lld)\n",
              out.c_str(), out.c_str(), (long long)model.layers, (long long)model.d_model, (long long)model.heads,
              (long long)model.max_len, (long long)g.vocab());
  return 0;
}

// The token ids of one line of FILE: decimal integers separated by whitespace.
std::vector<int32_t> parse_ids(const std::string& file, int64_t line_no, const std::string& line) {
  std::vector<int32_t> ids;
  for (const std::string& w : split_whitespace(line)) {
    const std::optional<int64_t> v = parse_whole(w);
    if (!v || *v < 0 || *v > INT32_MAX) fail(file, ":", line_no, ": '", w, "' is not a token id");
    ids.push_back(int32_t(*v));
  }
  return ids;
}

int cmd_logits(std::vector<std::string> args) {
  if (wants_help(args)) {
    std::cout << "usage: coopgen logits --config FILE [--checkpoint DIR|hf_gpt2:DIR] --ids FILE --out FILE.safetensors\n"
                 "                      [--overwrite] [--device cpu|cuda] [key.sub=value ...]\n"
                 "The generator's next-token logits for each line of FILE (token ids separated by spaces, fed\n"
                 "as they are: no start token added), written as tensors logits.0, logits.1, ... [T, V] (f32).\n"
                 "DIR defaults to run_dir/checkpoint; hf_gpt2:DIR reads a transformers GPT-2 folder. An existing\n"
                 "--out file is refused unless --overwrite.\n";
    return 0;
  }
  const bool overwrite = take_overwrite(args);
  ConfigArgs a = parse_config_args("logits", args, {"--checkpoint", "--ids", "--out"}, false);
  if (!a.extra.count("--ids") || !a.extra.count("--out")) fail("logits: --ids FILE and --out FILE are required");
  const CheckpointRef from = checkpoint_flag(a);
  check_output("logits", a.extra["--out"], overwrite, {a.extra["--ids"], a.config_file, from.dir + "/model.safetensors"});
  const Generator g = load_generator(a.cfg, from, nullptr);  // ids, not text: no vocabulary to match
  NamedTensors out;
  int64_t line_no = 0;
  for (const std::string& line : read_text_lines(a.extra["--ids"])) {
    const std::vector<int32_t> ids = parse_ids(a.extra["--ids"], ++line_no, line);
    if (ids.empty()) continue;
    for (int32_t id : ids)
      if (id >= g.vocab()) fail(a.extra["--ids"], ":", line_no, ": token id ", id, " is outside the vocabulary (", g.vocab(), ")");
    if (int64_t(ids.size()) > g.config().max_len)
      fail(a.extra["--ids"], ":", line_no, ": ", ids.size(), " tokens, more than the model's ", g.config().max_len, " positions");
    NoGradGuard no_grad;
    const Tensor logits = g.forward(Tensor::from(ids, {1, int64_t(ids.size())}, g.device())).to(DType::F32).to(Device::CPU);
    out.emplace_back("logits." + std::to_string(out.size()), logits.reshape({int64_t(ids.size()), g.vocab()}));
  }
  save_safetensors(a.extra["--out"], out);
  std::printf("wrote the logits of %zu sequences to %s\n", out.size(), a.extra["--out"].c_str());
  return 0;
}

int cmd_tokenize(std::vector<std::string> args) {
  if (wants_help(args) || args.empty()) {
    std::cout << "usage: coopgen tokenize --vocab vocab.json --merges merges.txt [--decode] FILE\n"
                 "GPT-2's byte-level BPE (models/bpe.h): prints the token ids of each line of FILE, separated\n"
                 "by spaces; with --decode, FILE holds such id lines and the text of each is printed.\n";
    return args.empty() ? 1 : 0;
  }
  std::map<std::string, std::string> opt;
  bool decode = false;
  std::string file;
  for (size_t k = 0; k < args.size(); ++k) {
    if (args[k] == "--decode") decode = true;
    else if ((args[k] == "--vocab" || args[k] == "--merges") && k + 1 < args.size()) opt[args[k]] = args[k + 1], ++k;
    else if (file.empty() && args[k][0] != '-') file = args[k];
    else fail("tokenize: unexpected argument '", args[k], "' (see --help)");
  }
  if (!opt.count("--vocab") || !opt.count("--merges") || file.empty()) fail("tokenize: --vocab, --merges and FILE are required");
  const Gpt2Bpe bpe(opt["--vocab"], opt["--merges"]);
  int64_t line_no = 0;
  for (const std::string& line : read_text_lines(file)) {
    ++line_no;
    if (decode) {
      const std::string text = bpe.decode(parse_ids(file, line_no, line));
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fputc('\n', stdout);
    } else {
      const std::vector<int32_t> ids = bpe.encode(line);
      for (size_t k = 0; k < ids.size(); ++k) std::printf("%s%d", k ? " " : "", ids[k]);
      std::printf("\n");
    }
  }
  return 0;
}

int cmd_enumerate(std::vector<std::string> args) {
  if (wants_help(args) || args.empty()) {
    std::cout << "usage: coopgen enumerate --out FILE.csv [--problems N (5)] [--vocab V (3)] [--length L (3)]\n"
                 "                         [--iterations T (100)] [--overwrite]\n"
                 "KL(p*‖p_t) over T iterations of the generator update with the optimal discriminator, on N\n"
                 "random problems of V^L sequences (one parameter per sequence): exact M-step, 1 or 5\n"
                 "gradient steps per iteration, M = 16 or 256 sampled sequences with self-normalised weights,\n"
                 "and GAN's REINFORCE update (trainers/methods/enumerable.h). Plot: python3 scripts/plot.py enumerable FILE.csv OUT.png.\n";
    return args.empty() ? 1 : 0;
  }
  const bool overwrite = take_overwrite(args);
  std::map<std::string, std::string> opt{{"--out", ""}, {"--problems", "5"}, {"--vocab", "3"}, {"--length", "3"}, {"--iterations", "100"}};
  for (size_t k = 0; k < args.size(); ++k) {
    if (!opt.count(args[k]) || k + 1 >= args.size()) fail("enumerate: unexpected argument '", args[k], "' (see --help)");
    opt[args[k]] = args[k + 1], ++k;
  }
  if (opt["--out"].empty()) fail("enumerate: --out FILE.csv is required");
  check_output("enumerate", opt["--out"], overwrite, {});
  enumerable::write_report(opt["--out"], whole_flag("--problems", opt["--problems"], 1, 10000),
                           whole_flag("--vocab", opt["--vocab"], 2, 4096), whole_flag("--length", opt["--length"], 1, 12),
                           whole_flag("--iterations", opt["--iterations"], 1, 1000000));
  std::printf("wrote %s\n", opt["--out"].c_str());
  return 0;
}

int cmd_devices(std::vector<std::string>) {
  std::printf("cpu: available\n");
  std::printf("cuda: %s\n", !device::cuda_compiled()    ? "not built (configure with -DCOOPGEN_CUDA=ON)"
                            : device::cuda_available() ? "available"
                                                       : "built, but no GPU is visible");
  std::printf("mpi: %s\n", dist::mpi_compiled() ? "yes (data parallelism: mpirun -np N coopgen train ...)" : "no (built without MPI)");
  std::printf("nccl: %s\n", dist::nccl_compiled() ? "yes" : "no (CUDA tensors go through the host between ranks)");
  return 0;
}

// The commands: name, synopsis (its options), what it does, and the function that runs it.
struct Command {
  const char* name;
  const char* synopsis;
  const char* about;
  int (*run)(std::vector<std::string>);
};
const Command kCommands[] = {
    {"train", "--config FILE [--resume] [--device cpu|cuda] [key.sub=value ...]",
     "train the generator (method: mle|gan|rml_gan|gcn)", cmd_train},
    {"sample", "--config FILE [--checkpoint DIR] [--num N] [--decoder NAME] [key.sub=value ...]",
     "print samples of a trained generator", cmd_sample},
    {"eval", "--config FILE [--checkpoint DIR | --hyp FILE [--ref FILE]] [key.sub=value ...]",
     "the task's metrics of a checkpoint", cmd_eval},
    {"sweep", "--config FILE --lm-checkpoint DIR [--checkpoint DIR] [--alphas A,B,..] [--reverse-steps N] [--decoder NAME]",
     "quality/diversity over temperatures (CSV + PNG)", cmd_sweep},
    {"bleu", "--hyp FILE --ref FILE [--max N]",
     "BLEU-2..5 of hypotheses against references, Self-BLEU-2..5 of the hypotheses (Texygen's)", cmd_bleu},
    {"score", "--hyp FILE --ref FILE", "corpus BLEU-4 (sacreBLEU) and ROUGE-1/2/L of aligned lines", cmd_score},
    {"config", "--config FILE [key.sub=value ...]", "check a config and print it resolved", cmd_config},
    {"inspect", "FILE.safetensors | CHECKPOINT_DIR", "list the tensors of a file or checkpoint", cmd_inspect},
    {"export", "--format hf_gpt2 CHECKPOINT OUT_DIR", "a generator as a transformers GPT-2 folder", cmd_export},
    {"logits", "--config FILE [--checkpoint DIR|hf_gpt2:DIR] --ids FILE --out FILE.safetensors",
     "the generator's logits of given token sequences", cmd_logits},
    {"tokenize", "--vocab vocab.json --merges merges.txt [--decode] FILE",
     "GPT-2 BPE ids of each line (or the text of id lines)", cmd_tokenize},
    {"enumerate", "--out FILE.csv [--problems N] [--vocab V] [--length L] [--iterations T]",
     "the method's updates on problems small enough to enumerate", cmd_enumerate},
    {"devices", "", "say which backends this build can run", cmd_devices},
};

std::string usage() {
  std::string out = "usage: coopgen <command> [options]\n\ncommands:\n";
  for (const Command& c : kCommands) out += std::string("  ") + c.name + " " + c.synopsis + "\n      " + c.about + "\n";
  return out + "\nRun `coopgen <command> --help` for a command's options.\n";
}

}  // namespace

int cli_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage();
    return args.empty() ? 1 : 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  try {
    for (const Command& c : kCommands)
      if (cmd == c.name) return c.run(std::move(args));
    fail("unknown command '", cmd, "' (see coopgen --help)");
  } catch (const Error& e) {
    dist::abort_job(e.what());  // several ranks: ends them all, naming this one
    std::fprintf(stderr, "coopgen: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    dist::abort_job(std::string("internal error: ") + e.what());
    std::fprintf(stderr, "coopgen: internal error: %s\n", e.what());
    return 1;
  }
}

}  // namespace coopgen
