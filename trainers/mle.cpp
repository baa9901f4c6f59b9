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
#include "trainers/decoding.h"

namespace coopgen {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

Device device_of(const RunConfig& cfg) { return cfg.device == "cuda" ? Device::CUDA : Device::CPU; }

// Teacher forcing on the oracle task: inputs [start, y1..y19], targets [y1..y20].
void make_batch(const Sequences& seqs, const std::vector<size_t>& rows, Device device, Tensor& ids, Tensor& targets) {
  const int64_t B = int64_t(rows.size()), T = OracleLSTM::kLength;
  std::vector<int32_t> in(static_cast<size_t>(B * T)), out(static_cast<size_t>(B * T));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const auto& s = seqs[rows[size_t(b)]];
      in[size_t(b * T + t)] = t == 0 ? OracleLSTM::kStartToken : s[size_t(t - 1)];
      out[size_t(b * T + t)] = s[size_t(t)];
    }
  ids = Tensor::from(in, {B, T}, device);
  targets = Tensor::from(out, {B * T}, device);
}

Tensor batch_loss(const Generator& g, const Tensor& ids, const Tensor& targets) {
  const Tensor mask = Tensor::full({targets.numel()}, 1.0, DType::F32, ids.device());
  return cross_entropy(g.forward(ids).reshape({targets.numel(), g.vocab()}), targets, mask);
}

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

OracleTask::OracleTask(const RunConfig& cfg)
    : oracle(cfg.data.oracle, device_of(cfg)),
      train(oracle.generate(cfg.data.train_size, cfg.data.seed)),
      test(oracle.generate(cfg.data.test_size, cfg.data.seed + 0x9e3779b97f4a7c15ull)) {}

double generator_nll(const Generator& g, const Sequences& seqs, int64_t batch) {
  NoGradGuard no_grad;
  double total = 0;
  const int64_t n = int64_t(seqs.size());
  for (int64_t first = 0; first < n; first += batch) {
    std::vector<size_t> rows(static_cast<size_t>(std::min(batch, n - first)));
    std::iota(rows.begin(), rows.end(), size_t(first));
    Tensor ids, targets;
    make_batch(seqs, rows, g.device(), ids, targets);
    total += batch_loss(g, ids, targets).item() * double(rows.size());
  }
  return total / double(n);
}

OracleMetrics evaluate_oracle(const Generator& g, const OracleTask& task, const RunConfig& cfg) {
  SampledSet s = sample_sequences(g, cfg.train.eval_samples, OracleLSTM::kLength, OracleLSTM::kStartToken,
                                  cfg.sampling, cfg.seed + 0x51ed27ull);
  return {task.oracle.nll(s.seqs), generator_nll(g, task.test)};
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
  Generator g(cfg.model, wte->second.size(0), cfg.seed, device_of(cfg));
  load_params(g.params(), tensors, dir);
  return g;
}

int train_mle(const RunConfig& cfg, bool resume) {
  const Device device = device_of(cfg);
  fs::create_directories(cfg.run_dir);
  atomic_write((fs::path(cfg.run_dir) / "config.yaml").string(), dump_config(cfg));
  const fs::path ckpt = fs::path(cfg.run_dir) / "checkpoint";

  Progress progress(cfg.train.steps);
  progress.line("coopgen train: oracle task, " + std::to_string(cfg.data.train_size) + " training sequences, device " +
                cfg.device + ", run folder " + cfg.run_dir);
  OracleTask task(cfg);
  Generator g(cfg.model, task.oracle.vocab(), cfg.seed, device);
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
    OracleMetrics m = evaluate_oracle(g, task, cfg);
    append_metrics(cfg, "{\"step\": " + std::to_string(at) + ", \"nll_oracle\": " + fmt("%.6f", m.nll_oracle) +
                            ", \"nll_test\": " + fmt("%.6f", m.nll_test) + "}");
    progress.line("eval step " + std::to_string(at) + ": NLL-oracle " + fmt("%.4f", m.nll_oracle) + ", NLL-test " +
                  fmt("%.4f", m.nll_test));
    return m;
  };

  g_stop_signal = 0;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  const int64_t B = cfg.train.batch_size, N = int64_t(task.train.size());
  CG_CHECK(B > 0 && B <= N, "train.batch_size (", B, ") must be between 1 and data.train_size (", N, ")");
  const int64_t per_epoch = N / B;
  std::vector<size_t> order;
  int64_t order_epoch = -1;
  const int64_t first_step = step;
  auto t0 = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  int exit_code = 0;
  for (; step < cfg.train.steps; ++step) {
    const int64_t epoch = step / per_epoch;
    if (epoch != order_epoch) {  // the data order is a function of (seed, epoch): resume replays it
      order.resize(size_t(N));
      std::iota(order.begin(), order.end(), size_t(0));
      std::mt19937_64 rng(cfg.seed * 1000003ull + uint64_t(epoch));
      std::shuffle(order.begin(), order.end(), rng);
      order_epoch = epoch;
    }
    const int64_t k = step % per_epoch;
    std::vector<size_t> rows(order.begin() + k * B, order.begin() + (k + 1) * B);
    Tensor ids, targets;
    make_batch(task.train, rows, device, ids, targets);
    Tensor loss = batch_loss(g, ids, targets);
    const double loss_value = loss.item();
    if (!std::isfinite(loss_value)) fail("train step ", step + 1, ": loss is ", loss_value, "; stopping (last checkpoint kept)");
    loss.backward();
    const double lr = opt.lr();
    const double grad_norm = opt.step();
    opt.zero_grad();
    tokens += targets.numel();
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
  OracleMetrics m = evaluate(step);
  std::printf("final step %lld: NLL-oracle %.4f  NLL-test %.4f  (SeqGAN's MLE: 9.038; untrained: about 10.3)\n",
              (long long)step, m.nll_oracle, m.nll_test);
  return 0;
}

}  // namespace coopgen
