#include "trainers/loop/loop.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "engine/allocator.h"
#include "engine/communicator.h"
#include "engine/io.h"
#include "engine/ops.h"

namespace coopgen {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

class Progress {  // a bar on a TTY, plain lines otherwise
 public:
  explicit Progress(int64_t total) : total_(total), tty_(isatty(STDERR_FILENO)), start_(clock::now()) {}
  // The last loss read (logging steps only; NaN before the first): "-" until there is one.
  static std::string loss_text(double loss) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", loss);
    return std::isnan(loss) ? "-" : buf;
  }
  void update(int64_t step, double loss, double tokens_per_s, int64_t first_step, bool force_line) {
    const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    const double eta = step > first_step ? elapsed / double(step - first_step) * double(total_ - step) : 0;
    if (tty_) {
      const int width = 30, filled = int(width * step / std::max<int64_t>(total_, 1));
      std::fprintf(stderr, "\r[%.*s%*s] step %lld/%lld loss %s %.0f tok/s ETA %.0fs ", filled,
                   "##############################", width - filled, "", (long long)step, (long long)total_,
                   loss_text(loss).c_str(), tokens_per_s, eta);
      if (step == total_) std::fprintf(stderr, "\n");
    } else if (force_line) {
      std::fprintf(stderr, "step %lld/%lld loss %s tokens/s %.0f eta %.0fs\n", (long long)step, (long long)total_,
                   loss_text(loss).c_str(), tokens_per_s, eta);
    }
  }
  void line(const std::string& text) const { std::fprintf(stderr, "%s%s\n", tty_ ? "\r" : "", text.c_str()); }

 private:
  using clock = std::chrono::steady_clock;
  int64_t total_;
  bool tty_;
  clock::time_point start_;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string optimizer_steps_key(size_t i) { return "optimizer." + std::to_string(i) + ".steps"; }

double metric(const Metrics& m, const std::string& name) {
  for (auto& [k, v] : m)
    if (k == name) return v;
  return 0;
}
bool has_metric(const Metrics& m, const std::string& name) {
  return std::any_of(m.begin(), m.end(), [&](const auto& kv) { return kv.first == name; });
}

}  // namespace

void load_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir,
                 std::set<std::string>* used) {
  for (auto& [name, p] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(dir, "/model.safetensors: tensor '", name, "' is missing");
    if (it->second.shape() != p.shape())
      fail(dir, "/model.safetensors: tensor '", name, "' is ", describe(it->second), ", the config's model needs ",
           shape_str(p.shape()));
    check_finite(it->second, dir + "/model.safetensors", name);
    Tensor src = it->second.to(p.device());
    copy_(p, src);
    if (used) used->insert(name);
  }
}

void refuse_unused(const std::map<std::string, Tensor>& tensors, const std::set<std::string>& used,
                   const std::string& dir, std::initializer_list<std::string_view> others) {
  for (const auto& [name, t] : tensors) {
    const bool elsewhere = std::any_of(others.begin(), others.end(), [&n = name](std::string_view o) { return n.starts_with(o); });
    if (!used.count(name) && !elsewhere)
      fail(dir, "/model.safetensors: tensor '", name, "' ", describe(t),
           " is not part of the model the config describes (a checkpoint of another shape?)");
  }
}

void check_batch_fits(const RunConfig& cfg, int64_t rows, const char* key, int64_t vocab) {
  const double memory = host_memory_bytes(), width = double(cfg.model.output_chunk > 0 ? std::min(cfg.model.output_chunk, vocab) : vocab);
  const double train = 12.0 * double(rows) * double(cfg.model.max_len) * width, draw = 4.0 * double(cfg.train.eval_samples) * double(vocab);
  if (memory > 0 && train > memory)
    fail(key, " (", rows, ") × model.max_len (", cfg.model.max_len, ") × ", width, " logits per token need ", train / 1e9,
         " GB, more than this machine's memory (", memory / 1e9, " GB; model.output_chunk bounds the width)");
  if (memory > 0 && draw > memory)
    fail("train.eval_samples (", cfg.train.eval_samples, ") × a vocabulary of ", vocab, " logits need ", draw / 1e9,
         " GB, more than this machine's memory (", memory / 1e9, " GB)");
}

namespace {
// What a training run writes into its folder: all that --overwrite deletes.
constexpr const char* kRunFiles[] = {"checkpoint",  "checkpoint.tmp", "checkpoint_best", "checkpoint_best.tmp",
                                     "metrics.jsonl", "config.yaml",    "vocab.txt"};
}  // namespace

void prepare_run_dir(const RunConfig& cfg, RunStart start) {
  if (!dist::is_root()) return;
  const fs::path dir(cfg.run_dir);
  std::error_code ec;
  const bool holds_run = fs::exists(dir / "checkpoint") || fs::exists(dir / "metrics.jsonl");
  if (holds_run && start == RunStart::Fresh)
    fail("run_dir ", cfg.run_dir, ": holds a run already (checkpoint/ or metrics.jsonl): continue it with --resume, ",
         "replace it with --overwrite, or choose another run_dir");
  if (start == RunStart::Overwrite)
    for (const char* f : kRunFiles)
      if (fs::remove_all(dir / f, ec); ec) fail("run_dir ", cfg.run_dir, ": cannot delete ", f, " (", ec.message(), ")");
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    fail("run_dir ", cfg.run_dir, ": cannot create the run folder (", ec ? ec.message() : "not a directory", ")");
  atomic_write((dir / "config.yaml").string(), dump_config(cfg));
}

int RunConfig::resolved_cpu_threads() const {
  if (cpu_threads > 0) return int(cpu_threads);
  if (const char* env = std::getenv("OPENBLAS_NUM_THREADS"); env && std::atoi(env) > 0) return std::atoi(env);
  return model.d_model < 512 ? 1 : int(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {
// The generator sizes a checkpoint records, with their limits (models/transformer.h).
struct StoredSize {
  const char* key;
  int64_t TransformerConfig::*field;
  int64_t most;
};
constexpr StoredSize kStoredSizes[] = {{"model.d_model", &TransformerConfig::d_model, kMaxDModel},
                                       {"model.layers", &TransformerConfig::layers, kMaxLayers},
                                       {"model.heads", &TransformerConfig::heads, kMaxHeads},
                                       {"model.max_len", &TransformerConfig::max_len, kMaxPositions}};
std::string state_file(const std::string& dir) { return dir + "/trainer_state.json"; }
}  // namespace

void apply_stored_shape(TransformerConfig& model, const TrainerState& st, const std::string& dir) {
  for (const StoredSize& s : kStoredSizes)
    if (st.numbers.count(s.key)) model.*s.field = st.count(s.key, 1, s.most, state_file(dir));
}

void check_checkpoint_fits(const TrainerState& st, const TransformerConfig& model, const Task* task, const std::string& dir) {
  for (const StoredSize& s : kStoredSizes)
    if (st.numbers.count(s.key))
      if (const int64_t stored = st.count(s.key, 1, s.most, state_file(dir)); stored != model.*s.field)
        fail(state_file(dir), ": ", s.key, " is ", stored, ", the config's is ", model.*s.field,
             " (a checkpoint loads only into the model it was saved from)");
  const auto vocab = st.strings.find("task.vocabulary");
  if (task && vocab != st.strings.end() && vocab->second != task->vocabulary())
    fail(state_file(dir), ": task.vocabulary is ", vocab->second, ", this config's data give ", task->vocabulary(),
         " (data.train_file, data.min_count or data.tokenizer differ from the run's)");
}

int run_training(const RunConfig& cfg, const std::vector<Trained>& trained, const LoopHooks& hooks, RunStart start) {
  // Every rank trains; rank 0 alone writes the run folder, logs, evaluates and checkpoints.
  const bool root = dist::is_root();
  const fs::path ckpt = fs::path(cfg.run_dir) / "checkpoint";
  Progress progress(cfg.train.steps);

  int64_t step = 0;
  // The lowest nll_valid so far, its step and the evaluations since (train.keep_best, patience);
  // carried across --resume in the trainer state.
  double best_valid = std::numeric_limits<double>::infinity();
  int64_t best_step = -1, evals_since_best = 0;
  constexpr int64_t kMostSteps = int64_t(1) << 53;  // a double holds every step count up to this
  if (start == RunStart::Resume) {
    if (!fs::exists(ckpt)) fail("--resume: no checkpoint at ", ckpt.string());
    TrainerState st;
    auto tensors = load_checkpoint(ckpt.string(), &st);
    if (auto m = st.strings.find("method"); m != st.strings.end() && m->second != name_of(cfg.method))
      fail(ckpt.string(), ": written by method '", m->second, "', the config's method is '", name_of(cfg.method), "'");
    check_checkpoint_fits(st, cfg.model, hooks.task, ckpt.string());
    step = st.count("step", 0, kMostSteps, state_file(ckpt.string()));
    if (st.numbers.count("best.step")) {
      best_step = st.count("best.step", 0, step, state_file(ckpt.string()));
      evals_since_best = st.count("best.evals_since", 0, kMostSteps, state_file(ckpt.string()));
      best_valid = st.numbers.count("best.nll_valid") ? st.numbers.at("best.nll_valid") : best_valid;
    }
    std::set<std::string> used;
    for (size_t i = 0; i < trained.size(); ++i) {
      load_params(*trained[i].params, tensors, ckpt.string(), &used);
      const std::string taken = optimizer_steps_key(i);  // a discriminator takes k per step
      trained[i].opt->load_state(tensors, st.numbers.count(taken) ? st.count(taken, 0, kMostSteps, state_file(ckpt.string())) : step);
      for (const auto& [name, t] : trained[i].opt->state()) used.insert(name);
    }
    refuse_unused(tensors, used, ckpt.string());
  }
  // After the checkpoint is found to fit: a refusal is then the only line.
  if (root) progress.line(hooks.banner + (dist::collectives_on() ? ", " + std::to_string(dist::size()) + (dist::size() == 1 ? " rank" : " ranks") : ""));
  if (root && start == RunStart::Resume) progress.line("resumed from " + ckpt.string() + " at step " + std::to_string(step));
  const fs::path best_ckpt = fs::path(cfg.run_dir) / "checkpoint_best";
  auto save = [&](int64_t at, const fs::path& dir) {
    if (!root) return;
    NamedTensors all;
    for (const Trained& t : trained) {
      all.insert(all.end(), t.params->begin(), t.params->end());
      for (auto& s : t.opt->state()) all.push_back(s);
    }
    TrainerState st;
    st.numbers["step"] = double(at);
    for (size_t i = 0; i < trained.size(); ++i) st.numbers[optimizer_steps_key(i)] = double(trained[i].opt->steps_taken());
    st.strings["task"] = name_of(cfg.data.task);
    st.strings["method"] = name_of(cfg.method);
    if (hooks.task) st.strings["task.vocabulary"] = hooks.task->vocabulary();
    // The generator's shape and tokens, so a checkpoint can be exported without its config.
    st.numbers["model.d_model"] = double(cfg.model.d_model), st.numbers["model.layers"] = double(cfg.model.layers);
    st.numbers["model.heads"] = double(cfg.model.heads), st.numbers["model.max_len"] = double(cfg.model.max_len);
    if (hooks.task && hooks.task->start_token >= 0) st.numbers["task.start_token"] = double(hooks.task->start_token);
    if (hooks.task && hooks.task->eos >= 0) st.numbers["task.end_token"] = double(hooks.task->eos);
    if (best_step >= 0) {
      st.numbers["best.step"] = double(best_step), st.numbers["best.nll_valid"] = best_valid;
      st.numbers["best.evals_since"] = double(evals_since_best);
    }
    save_checkpoint(dir.string(), all, st);
  };
  const std::string metrics_path = (fs::path(cfg.run_dir) / "metrics.jsonl").string();
  std::ofstream metrics_file;
  if (root) {
    if (hooks.task && hooks.task->writes_vocab)  // for the reader of samples; checkpoints carry the hash
      atomic_write((fs::path(cfg.run_dir) / "vocab.txt").string(), hooks.task->vocab_text);
    metrics_file.open(metrics_path, std::ios::app);
    if (!metrics_file) fail(metrics_path, ": cannot open for writing (", std::strerror(errno), ")");
  }
  auto log_metrics = [&](const JsonWriter& row) {
    metrics_file << row.line() << std::endl;  // flushed: a run stopped at any point keeps its rows
    if (!metrics_file) fail(metrics_path, ": cannot write (", std::strerror(errno), ")");
  };
  auto evaluate = [&](int64_t at) -> std::string {
    if (!root) return "";
    JsonWriter json;
    json.number("step", double(at));
    std::string text = "eval step " + std::to_string(at) + ":";
    const Metrics m = hooks.evaluate();
    for (auto& [name, value] : m) {
      json.number(name, value, 7);
      text += " " + name + " " + fmt("%.4f", value);
    }
    log_metrics(json);
    progress.line(text);
    if (has_metric(m, kValidationMetric)) {
      if (metric(m, kValidationMetric) < best_valid) {
        best_valid = metric(m, kValidationMetric), best_step = at, evals_since_best = 0;
        if (cfg.train.keep_best) save(at, best_ckpt);
      } else {
        ++evals_since_best;
      }
    }
    return text;
  };
  // Early stopping: rank 0 evaluates, every rank stops at the same step.
  auto patience_spent = [&] {
    const bool spent = root && cfg.train.patience > 0 && evals_since_best >= cfg.train.patience;
    return dist::size() > 1 ? dist::all_reduce_sum(double(spent)) > 0 : spent;
  };

  g_stop_signal = 0;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  // Where the curves start (with no steps to take, the final evaluation below is that point).
  if (step == 0 && cfg.train.eval_every > 0 && cfg.train.steps > 0) evaluate(0);
  const int64_t first_step = step;
  const auto t0 = std::chrono::steady_clock::now();
  double tokens = 0, last_loss = std::nan("");
  int exit_code = 0;
  std::string stopped_early;  // the last evaluation, when patience ended the run
  for (; step < cfg.train.steps; ++step) {
    const int64_t done = step + 1;
    const bool log_now = cfg.train.log_every > 0 && (done % cfg.train.log_every == 0 || done == cfg.train.steps);
    const StepReport r = hooks.step(step, log_now);
    tokens += r.tokens;
    if (!std::isnan(r.loss)) last_loss = r.loss;
    const double rate = tokens / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (log_now && root) {
      JsonWriter json;
      json.number("step", double(done));
      if (!std::isnan(r.loss)) json.number("loss", r.loss, 6);
      for (auto& [name, value] : r.metrics) json.number(name, value, 6);
      log_metrics(json.number("tokens_per_s", rate, 6));
    }
    if (root) progress.update(done, last_loss, rate, first_step, log_now);
    if (cfg.train.eval_every > 0 && done % cfg.train.eval_every == 0 && done != cfg.train.steps) {
      const std::string text = evaluate(done);
      if (patience_spent()) {
        if (root) progress.line("early stop after step " + std::to_string(done) + ": nll_valid " + fmt("%.4f", best_valid) +
                                " at step " + std::to_string(best_step) + " not improved in " + std::to_string(evals_since_best) +
                                " evaluations (" + best_ckpt.string() + ")");
        stopped_early = text, step = done;
        break;
      }
    }
    if (cfg.train.checkpoint_every > 0 && done % cfg.train.checkpoint_every == 0) save(done, ckpt);
    // mpirun passes a signal to every rank, but not at the same step: the ranks stop together.
    const int stop = dist::size() > 1 ? int(dist::all_reduce_sum(double(g_stop_signal.load()))) : g_stop_signal.load();
    if (stop) {
      g_stop_signal = g_stop_signal ? g_stop_signal.load() : SIGTERM;
      save(done, ckpt);
      if (root) progress.line("stopped by signal " + std::to_string(int(g_stop_signal)) + " after step " + std::to_string(done) +
                    "; checkpoint written to " + ckpt.string() + " (continue with --resume)");
      exit_code = 128 + g_stop_signal;
      break;
    }
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  if (exit_code) return exit_code;
  save(step, ckpt);
  if (root) std::printf("final %s\n", stopped_early.empty() ? evaluate(step).c_str() : stopped_early.c_str());
  if (root && best_step >= 0)
    std::printf("best nll_valid %.4f at step %lld%s\n", best_valid, (long long)best_step,
                cfg.train.keep_best ? (" (" + best_ckpt.string() + ")").c_str() : "");
  return 0;
}

}  // namespace coopgen
