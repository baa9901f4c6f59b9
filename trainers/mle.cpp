#include "trainers/mle.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "engine/device.h"
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
  void update(int64_t step, double loss, double tokens_per_s, int64_t first_step, bool force_line) {
    const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    const double eta = step > first_step ? elapsed / double(step - first_step) * double(total_ - step) : 0;
    if (tty_) {
      const int width = 30, filled = int(width * step / std::max<int64_t>(total_, 1));
      std::fprintf(stderr, "\r[%.*s%*s] step %lld/%lld loss %.4f %.0f tok/s ETA %.0fs ", filled,
                   "##############################", width - filled, "", (long long)step, (long long)total_, loss,
                   tokens_per_s, eta);
      if (step == total_) std::fprintf(stderr, "\n");
    } else if (force_line) {
      std::fprintf(stderr, "step %lld/%lld loss %.4f tokens/s %.0f eta %.0fs\n", (long long)step, (long long)total_,
                   loss, tokens_per_s, eta);
    }
  }
  void line(const std::string& text) const {
    std::fprintf(stderr, "%s%s\n", tty_ ? "\r" : "", text.c_str());
  }

 private:
  using clock = std::chrono::steady_clock;
  int64_t total_;
  bool tty_;
  clock::time_point start_;
};

void append_metrics(const RunConfig& cfg, const std::string& json) {
  std::ofstream(fs::path(cfg.run_dir) / "metrics.jsonl", std::ios::app) << json << "\n";
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

BatchOrder::BatchOrder(int64_t size, int64_t batch, uint64_t seed) : size_(size), batch_(batch), seed_(seed) {
  CG_CHECK(batch > 0 && batch <= size, "train.batch_size (", batch, ") must be between 1 and the data size (", size, ")");
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

StepResult mle_step(Generator& g, AdamW& opt, const Task& task, const Sequences& data, const std::vector<size_t>& rows) {
  Tensor ids, targets, mask;
  task.make_batch(data, rows, g.device(), ids, targets, mask);
  Tensor loss = cross_entropy(g.forward(ids).reshape({targets.numel(), g.vocab()}), targets, mask);
  StepResult r{loss.item(), 0, opt.lr(), sum(mask).item()};
  if (!std::isfinite(r.loss)) fail("train step ", opt.steps_taken() + 1, ": loss is ", r.loss, "; stopping (last checkpoint kept)");
  loss.backward();
  r.grad_norm = opt.step();
  opt.zero_grad();
  return r;
}

// Copies each parameter from the checkpoint's tensors; errors name the file and tensor.
static void load_params(NamedTensors& params, const std::map<std::string, Tensor>& tensors, const std::string& dir) {
  for (auto& [name, p] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(dir, "/model.safetensors: tensor '", name, "' is missing");
    if (it->second.shape() != p.shape())
      fail(dir, "/model.safetensors: tensor '", name, "' is ", describe(it->second), ", the config's model needs ",
           shape_str(p.shape()));
    Tensor src = it->second.to(p.device());
    copy_(p, src);
  }
}

Generator load_generator(const RunConfig& cfg, const std::string& dir) {
  auto tensors = load_checkpoint(dir, nullptr);
  auto wte = tensors.find("wte");
  if (wte == tensors.end() || wte->second.dim() != 2) fail(dir, "/model.safetensors: tensor 'wte' is missing");
  Generator g(cfg.model, wte->second.size(0), cfg.seed, cfg.backend());
  load_params(g.params(), tensors, dir);
  return g;
}

int train_mle(const RunConfig& cfg, bool resume) {
  const Device device = cfg.backend();
  fs::create_directories(cfg.run_dir);
  atomic_write((fs::path(cfg.run_dir) / "config.yaml").string(), dump_config(cfg));
  const fs::path ckpt = fs::path(cfg.run_dir) / "checkpoint";

  Progress progress(cfg.train.steps);
  std::unique_ptr<Task> task_ptr = Task::create(cfg);
  const Task& task = *task_ptr;
  progress.line("coopgen train: " + cfg.data.task + " task, " + std::to_string(task.train.size()) +
                " training sequences, vocabulary " + std::to_string(task.vocab) + ", device " + cfg.device +
                ", run folder " + cfg.run_dir);
  Generator g(cfg.model, task.vocab, cfg.seed, device);
  AdamW opt(g.params(), cfg.optim);
  int64_t step = 0;
  if (resume) {
    if (!fs::exists(ckpt)) fail("--resume: no checkpoint at ", ckpt.string());
    TrainerState st;
    auto tensors = load_checkpoint(ckpt.string(), &st);
    load_params(g.params(), tensors, ckpt.string());
    if (!st.numbers.count("step")) fail(ckpt.string(), "/trainer_state.json: 'step' is missing");
    step = int64_t(st.numbers.at("step"));
    opt.load_state(tensors, step);
    progress.line("resumed from " + ckpt.string() + " at step " + std::to_string(step));
  }
  auto save = [&](int64_t at) {
    NamedTensors all = g.params();
    for (auto& t : opt.state()) all.push_back(t);
    TrainerState st;
    st.numbers["step"] = double(at);
    st.strings["task"] = cfg.data.task;
    save_checkpoint(ckpt.string(), all, st);
  };
  auto evaluate = [&](int64_t at) {
    const Metrics m = task.evaluate(g, cfg);
    std::string json = "{\"step\": " + std::to_string(at), text = "eval step " + std::to_string(at) + ":";
    for (auto& [name, value] : m) {
      json += ", \"" + name + "\": " + fmt("%.6f", value);
      text += " " + name + " " + fmt("%.4f", value);
    }
    append_metrics(cfg, json + "}");
    progress.line(text);
    return text;
  };

  g_stop_signal = 0;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  BatchOrder batches(int64_t(task.train.size()), cfg.train.batch_size, cfg.seed);
  const int64_t first_step = step;
  auto t0 = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  int exit_code = 0;
  for (; step < cfg.train.steps; ++step) {
    const StepResult r = mle_step(g, opt, task, task.train, batches.rows(step));
    const double loss_value = r.loss, lr = r.lr, grad_norm = r.grad_norm;
    tokens += int64_t(r.tokens);
    const int64_t done = step + 1;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const bool log_now = cfg.train.log_every > 0 && (done % cfg.train.log_every == 0 || done == cfg.train.steps);
    if (log_now)
      append_metrics(cfg, "{\"step\": " + std::to_string(done) + ", \"loss\": " + fmt("%.6f", loss_value) +
                              ", \"lr\": " + fmt("%.6g", lr) + ", \"grad_norm\": " + fmt("%.6g", grad_norm) +
                              ", \"tokens_per_s\": " + fmt("%.1f", double(tokens) / secs) + "}");
    progress.update(done, loss_value, double(tokens) / secs, first_step, log_now);
    if (cfg.train.eval_every > 0 && done % cfg.train.eval_every == 0 && done != cfg.train.steps) evaluate(done);
    if (cfg.train.checkpoint_every > 0 && done % cfg.train.checkpoint_every == 0) save(done);
    if (g_stop_signal) {
      save(done);
      progress.line("stopped by signal " + std::to_string(int(g_stop_signal)) + " after step " + std::to_string(done) +
                    "; checkpoint written to " + ckpt.string() + " (continue with --resume)");
      exit_code = 128 + g_stop_signal;
      break;
    }
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  if (exit_code) return exit_code;
  save(step);
  std::printf("final %s\n", evaluate(step).c_str());
  if (cfg.data.task == "oracle") std::printf("reference points: SeqGAN's MLE NLL-oracle 9.038, untrained about 10.3\n");
  return 0;
}

}  // namespace coopgen
