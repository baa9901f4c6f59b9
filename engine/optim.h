// AdamW with decoupled weight decay and bias correction, global-norm gradient clipping, and
// learning-rate schedules. Weight decay applies to matrices only (dim ≥ 2), as in GPT-2: biases,
// gains and norms are not decayed.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/communicator.h"
#include "engine/config.h"
#include "engine/tensor.h"

namespace coopgen {

// The learning rate after warm-up: constant, decayed linearly or by a half cosine to
// lr·min_lr_ratio at total_steps.
enum class Schedule { constant, warmup_linear, cosine };
constexpr std::array<const char*, 3> config_names(Schedule) { return {"constant", "warmup_linear", "cosine"}; }

struct ScheduleConfig {
  Schedule kind = Schedule::constant;
  int64_t warmup_steps = 0;       // linear ramp from 0 to lr over these steps (all kinds)
  int64_t total_steps = 0;        // end of the decay (warmup_linear, cosine)
  double min_lr_ratio = 0.0;      // the decay ends at lr·min_lr_ratio
  template <class V> void visit(V& v) {
    v("kind", kind);
    v("warmup_steps", warmup_steps, Range{0, kUnbounded});
    v("total_steps", total_steps, Range{0, kUnbounded});
    v.require("total_steps", kind == Schedule::constant || total_steps > warmup_steps,
              std::to_string(total_steps) + " must exceed warmup_steps (" + std::to_string(warmup_steps) + ") for schedule " +
                  name_of(kind));
    v("min_lr_ratio", min_lr_ratio, Range{0, 1});
  }
  // The learning rate at 1-based `step`. Fails when the config is inconsistent.
  double lr_at(int64_t step, double base_lr) const;
};

struct OptimConfig {
  double lr = 3e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double grad_clip = 1.0;  // global-norm clip; 0 disables
  ScheduleConfig schedule;
  template <class V> void visit(V& v) {
    v("lr", lr, Range{0, kUnbounded});
    v("beta1", beta1, Range{0, 1, false, true});
    v("beta2", beta2, Range{0, 1, false, true});
    v("eps", eps, Range{0, kUnbounded, true});
    v("weight_decay", weight_decay, Range{0, kUnbounded});
    v("grad_clip", grad_clip, Range{0, kUnbounded});
    v("schedule", schedule);
  }
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The tensors of named parameters, in order (what a gradient reducer takes).
std::vector<Tensor> tensors_of(const NamedTensors& params);

class AdamW {
 public:
  // `reducer` (dist::reducer_for; none alone) sums the gradients over the ranks of a data-parallel
  // job before each step.
  AdamW(NamedTensors params, OptimConfig cfg, std::unique_ptr<dist::GradientReducer> reducer = nullptr);

  // One update from the parameters' .grad (missing grads count as zero), summed over the ranks of
  // a data-parallel job first (engine/communicator.h). Returns the global gradient norm before clipping; a non-finite norm is an error naming the step, and the
  // parameters are left untouched.
  double step();
  void zero_grad();
  int64_t steps_taken() const { return step_; }
  double lr() const { return cfg_.schedule.lr_at(step_ + 1, cfg_.lr); }

  // Moments as named tensors ("adamw.m.<param>", "adamw.v.<param>") for checkpoints.
  NamedTensors state() const;
  void load_state(const std::map<std::string, Tensor>& tensors, int64_t steps_taken);

 private:
  NamedTensors params_;
  std::unique_ptr<dist::GradientReducer> reducer_;  // data parallelism; none alone
  std::vector<Tensor> m_, v_;
  std::vector<Tensor> zero_grads_;  // the gradient of a parameter that has none, made once when first needed
  OptimConfig cfg_;
  int64_t step_ = 0;
};

}  // namespace coopgen
