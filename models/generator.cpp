#include "models/generator.h"

#include "engine/ops.h"

namespace coopgen {

Tensor Generator::forward(const Tensor& ids) const {
  return matmul(net_.encode(ids, true, Tensor(), nullptr), net_.param("wte"), false, true);
}

Tensor Generator::step(const Tensor& ids, Cache& cache) const {
  NoGradGuard no_grad;
  const int64_t B = ids.size(0);
  const Tensor h = net_.encode(ids.reshape({B, 1}), true, Tensor(), &cache);
  return matmul(h, net_.param("wte"), false, true).reshape({B, vocab()});
}

}  // namespace coopgen
