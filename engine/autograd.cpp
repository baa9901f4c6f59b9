#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace coopgen {

static thread_local bool g_grad_enabled = true;
static std::vector<std::pair<int, LeafReadyHook>> g_leaf_hooks;

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardRule rule) {
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::make_shared<Node>(Node{name, std::move(inputs), std::move(rule)});
  return out;
}

void run_backward(const Tensor& root, const Tensor& grad) {
  CG_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad");
  Tensor seed = grad;
  if (!seed.defined()) {
    CG_CHECK(root.numel() == 1, "backward() without a gradient needs a one-element tensor, got ",
             shape_str(root.shape()));
    seed = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
  }
  CG_CHECK(seed.shape() == root.shape(), "backward(): gradient shape ", shape_str(seed.shape()),
           " does not match ", shape_str(root.shape()));

  // Topological order of the non-leaf tensors reachable from the root (iterative DFS).
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, size_t>> stack{{&root.impl(), 0}};
  seen.insert(&root.impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    const auto& node = t->grad_fn;
    if (node && next < node->inputs.size()) {
      TensorImpl* in = node->inputs[next++].impl_ptr().get();
      if (in && in->grad_fn && seen.insert(in).second) stack.push_back({in, 0});
      continue;
    }
    order.push_back(t);
    stack.pop_back();
  }

  // ready[i]: the leaves whose last possible contribution comes from the i-th node of the walk.
  std::vector<std::vector<const TensorImpl*>> ready;
  if (!g_leaf_hooks.empty()) {
    std::unordered_map<const TensorImpl*, size_t> last;
    for (size_t i = 0; i < order.size(); ++i)
      for (const Tensor& in : order[order.size() - 1 - i]->grad_fn->inputs)
        if (in.defined() && in.requires_grad() && !in.grad_fn()) last[&in.impl()] = i;
    // In the nodes' input order, never the map's (pointer hashes differ between processes, and
    // data-parallel ranks must start their gradient buckets in the same order).
    ready.resize(order.size());
    for (size_t i = 0; i < order.size(); ++i)
      for (const Tensor& in : order[order.size() - 1 - i]->grad_fn->inputs)
        if (auto it = last.find(in.defined() ? &in.impl() : nullptr); it != last.end() && it->second == i) {
          ready[i].push_back(it->first);
          it->second = order.size();  // reported once, even if the node takes it twice
        }
  }

  NoGradGuard no_grad;  // gradients of gradients are not needed
  std::unordered_map<TensorImpl*, Tensor> grads{{&root.impl(), seed}};
  auto accumulate = [](Tensor& slot, const Tensor& g) {
    if (!slot.defined()) slot = g.contiguous().clone();
    else add_(slot, g);
  };
  for (size_t i = 0; i < order.size(); ++i) {
    TensorImpl* t = order[order.size() - 1 - i];
    if (auto found = grads.find(t); found != grads.end()) {
      Tensor g = found->second;
      grads.erase(found);
      Node& node = *t->grad_fn;
      std::vector<Tensor> in_grads = node.backward(g);
      CG_CHECK(in_grads.size() == node.inputs.size(), "backward rule of ", node.name,
               " returned ", in_grads.size(), " gradients for ", node.inputs.size(), " inputs");
      for (size_t k = 0; k < in_grads.size(); ++k) {
        const Tensor& in = node.inputs[k];
        if (!in.defined() || !in.requires_grad() || !in_grads[k].defined()) continue;
        CG_CHECK(in_grads[k].shape() == in.shape(), "backward rule of ", node.name, ": gradient ",
                 k, " has shape ", shape_str(in_grads[k].shape()), ", input has ",
                 shape_str(in.shape()));
        if (in.grad_fn()) {
          accumulate(grads[&in.impl()], in_grads[k]);
        } else {
          Tensor slot(in.impl().grad);
          accumulate(slot, in_grads[k]);
          in.impl().grad = slot.impl_ptr();
        }
      }
    }
    if (!ready.empty())
      for (const TensorImpl* leaf : ready[i])
        for (const auto& [handle, hook] : g_leaf_hooks) hook(*leaf);
  }
}

int add_leaf_ready_hook(LeafReadyHook hook) {
  static int next = 0;
  g_leaf_hooks.emplace_back(++next, std::move(hook));
  return next;
}

void remove_leaf_ready_hook(int handle) {
  std::erase_if(g_leaf_hooks, [&](const auto& h) { return h.first == handle; });
}

}  // namespace coopgen
