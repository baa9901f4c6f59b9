// Reverse-mode autograd, micrograd-style: every differentiable op records a Node holding its
// differentiable inputs and a backward rule; backward() sorts the graph topologically, walks it
// in reverse and adds up gradients. Only paths that reach a tensor requiring grad are recorded.
// A backward rule must not capture its own output tensor (that would be a reference cycle):
// capture out.detach() instead.
#pragma once
#include <functional>
#include <vector>

#include "engine/tensor.h"

namespace coopgen {

// Given the gradient of the node's output, returns one gradient per input (undefined where the
// input needs none).
using BackwardRule = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  const char* name;
  std::vector<Tensor> inputs;
  BackwardRule backward;
};

bool grad_enabled();

// Disables recording in a scope (sampling, evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Attaches history to `out` when recording is on and some input requires grad. Returns `out`.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardRule rule);

// Runs the backward pass from `root` (seeded with `grad`, or 1 for a one-element root).
void run_backward(const Tensor& root, const Tensor& grad);

// Observers of the backward pass, called with each leaf that needs a gradient (a parameter) as
// soon as no node left in the pass can add to its gradient: data parallelism starts summing a
// bucket of gradients over ranks there, while the pass goes on (engine/communicator.h).
using LeafReadyHook = std::function<void(const TensorImpl& leaf)>;
int add_leaf_ready_hook(LeafReadyHook hook);  // returns a handle for remove_leaf_ready_hook
void remove_leaf_ready_hook(int handle);

}  // namespace coopgen
