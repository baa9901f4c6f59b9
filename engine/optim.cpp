#include "engine/communicator.h"
#include "engine/optim.h"

#include <cmath>
#include <numbers>

#include "engine/op.h"
#include "engine/ops.h"

namespace coopgen {

double ScheduleConfig::lr_at(int64_t step, double base) const {
  if (warmup_steps > 0 && step <= warmup_steps) return base * double(step) / double(warmup_steps);
  if (kind == Schedule::constant) return base;
  CG_CHECK(total_steps > warmup_steps, "optim.schedule.total_steps (", total_steps,
           ") must exceed warmup_steps (", warmup_steps, ") for schedule '", name_of(kind), "'");
  const double progress = std::min(1.0, double(step - warmup_steps) / double(total_steps - warmup_steps));
  double decay = 1.0;
  switch (kind) {
    case Schedule::constant: break;
    case Schedule::warmup_linear: decay = 1.0 - progress; break;
    case Schedule::cosine: decay = 0.5 * (1.0 + std::cos(std::numbers::pi * progress)); break;
  }
  return base * (min_lr_ratio + (1.0 - min_lr_ratio) * decay);
}

std::vector<Tensor> tensors_of(const NamedTensors& params) {
  std::vector<Tensor> out;
  for (const auto& [name, p] : params) out.push_back(p);
  return out;
}

AdamW::AdamW(NamedTensors params, OptimConfig cfg, std::unique_ptr<dist::GradientReducer> reducer)
    : params_(std::move(params)), reducer_(std::move(reducer)), cfg_(std::move(cfg)) {
  for (auto& [name, p] : params_) {
    CG_CHECK(p.requires_grad() && p.is_contiguous(), "AdamW: parameter '", name,
             "' must be a contiguous tensor that requires grad");
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
  zero_grads_.resize(params_.size());
}

double AdamW::step() {
  NoGradGuard no_grad;
  if (reducer_) reducer_->finish();  // data parallelism: each rank's gradient is of its share of the global loss
  // Σ‖g‖² summed on the device and read once: the step's one host synchronisation (a NaN or an
  // infinity anywhere makes it non-finite, so this one read is also the finiteness check).
  Tensor sq;
  for (auto& [name, p] : params_) {
    if (!p.grad().defined()) continue;
    if (sq.defined()) add_(sq, sum_squares(p.grad()));
    else sq = sum_squares(p.grad());
  }
  const double norm = std::sqrt(sq.defined() ? sq.item() : 0.0);
  if (!std::isfinite(norm))
    fail("AdamW step ", step_ + 1, ": gradient norm is ", norm, " (NaN or infinite loss?); parameters not updated");
  const double gscale = (cfg_.grad_clip > 0 && norm > cfg_.grad_clip) ? cfg_.grad_clip / norm : 1.0;
  const double lr = cfg_.schedule.lr_at(++step_, cfg_.lr);
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor& p = params_[k].second;
    if (!p.grad().defined() && !zero_grads_[k].defined())  // kept: no allocation per step
      zero_grads_[k] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    const Tensor& g = p.grad().defined() ? p.grad() : zero_grads_[k];
    const double wd = p.dim() >= 2 ? cfg_.weight_decay : 0.0;
    dispatch(op_call<Op::AdamW>({g.contiguous()}, {p, m_[k], v_[k]}, {lr, cfg_.beta1, cfg_.beta2, cfg_.eps, wd, gscale, step_}));
  }
  return norm;
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

NamedTensors AdamW::state() const {
  NamedTensors out;
  for (size_t k = 0; k < params_.size(); ++k) {
    out.emplace_back("adamw.m." + params_[k].first, m_[k]);
    out.emplace_back("adamw.v." + params_[k].first, v_[k]);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, Tensor>& tensors, int64_t steps_taken) {
  for (size_t k = 0; k < params_.size(); ++k) {
    for (auto* slot : {&m_[k], &v_[k]}) {
      const std::string name = (slot == &m_[k] ? "adamw.m." : "adamw.v.") + params_[k].first;
      auto it = tensors.find(name);
      if (it == tensors.end()) fail("optimizer state: tensor '", name, "' is missing");
      if (it->second.shape() != slot->shape() || it->second.dtype() != slot->dtype())
        fail("optimizer state: tensor '", name, "' is ", describe(it->second), ", expected ", describe(*slot));
      *slot = it->second.to(slot->device()).clone();
    }
  }
  step_ = steps_taken;
}

}  // namespace coopgen
