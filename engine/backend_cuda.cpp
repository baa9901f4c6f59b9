// CUDA backend: from op to the kernels in kernels/cuda/ (f32 compute; Fill and Copy move bf16 and
// i32; the ops of bf16_storage() also keep their activations in bf16). Scratch buffers come from the caching allocator.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <type_traits>

#include "engine/device.h"
#include "engine/op.h"
#include "kernels/cuda/adamw.cuh"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/copy.cuh"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/layernorm.cuh"
#include "kernels/cuda/losses.cuh"
#include "kernels/cuda/matmul.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/cuda/sampling.cuh"
#include "kernels/cuda/top_k.cuh"
#include "kernels/cuda/softmax.cuh"

namespace coopgen {

// The Float ops with bf16 storage of their activations (precision bf16): what a transformer's
// training step and decoding run through. Their f32 state (layernorm statistics, attention's
// log-sum-exp, the loss's per-row state, embedding tables and their gradients) stays f32.
static bool bf16_storage(Op op) {
  switch (op) {
    case Op::Add: case Op::Mul: case Op::Scale: case Op::BiasAdd: case Op::SumRows: case Op::Gelu:
    case Op::GeluBackward: case Op::BiasGelu: case Op::BiasGeluBackward: case Op::Sigmoid: case Op::SigmoidBackward:
    case Op::Tanh: case Op::TanhBackward: case Op::Matmul: case Op::Embedding: case Op::EmbeddingBackward:
    case Op::LayerNorm: case Op::LayerNormBackward: case Op::Attention: case Op::AttentionBackward:
    case Op::LogsumexpChunk: case Op::WeightedLogprobBackward:
      return true;
    case Op::Fill: case Op::Copy: case Op::Softmax: case Op::SoftmaxBackward: case Op::MaskedPool:
    case Op::MaskedPoolBackward: case Op::SumAll: case Op::SumSquares: case Op::WeightedLogprob: case Op::BceWithLogits:
    case Op::BceWithLogitsBackward: case Op::AdamW: case Op::SampleLogits: case Op::TopKLogits: case Op::PhiloxUniform:
    case Op::TokenRangeCheck: case Op::Count:
      return false;
  }
  return false;
}

bool cuda_supports(Op op, DType t) {
  switch (op_class(op)) {
    case OpClass::Any: return t != DType::F64;
    case OpClass::Index: return t == DType::I32;
    case OpClass::Float: return t == DType::F32 || (t == DType::BF16 && bf16_storage(op));
  }
  return false;
}

namespace {
using bf16_t = __nv_bfloat16;
float* out_f32(const OpCall& c, size_t k) { return c.out[k].data<float>(); }
const float* in_f32(const OpCall& c, size_t k) { return c.in[k].data<float>(); }
// Activations in the storage type T (float or bf16), through Tensor::data's dtype check.
template <class T> T* storage(const Tensor& t) {
  if constexpr (std::is_same_v<T, float>) return t.data<float>();
  else return reinterpret_cast<T*>(t.data<bf16>());  // coopgen's bf16 and CUDA's share the 16 bits
}
template <class T> T* out_t(const OpCall& c, size_t k) { return storage<T>(c.out[k]); }
template <class T> const T* in_t(const OpCall& c, size_t k) { return storage<T>(c.in[k]); }
template <class T> const T* opt_in_t(const OpCall& c, size_t k) { return c.in.size() > k ? in_t<T>(c, k) : nullptr; }
const int32_t* ids(const OpCall& c, size_t k) { return c.in[k].data<int32_t>(); }
// An op's scratch buffers, held until its kernels are enqueued (the end of cuda_run): two buffers
// of one op are distinct blocks, and a block returns to the cache only once nothing on the host
// will hand its address to another launch. Reuse after that is safe because every kernel and copy
// runs on the one stream, so a later user of the block is ordered after this op's kernels.
class Scratch {
 public:
  float* operator()(int64_t n) {
    held_.push_back(Tensor::empty({n}, DType::F32, Device::CUDA));
    return held_.back().data<float>();
  }

 private:
  std::vector<Tensor> held_;
};
// Runs f(T{}) with T the storage type of the activations in `t`: bf16 or float.
template <class F> void with_storage(const Tensor& t, F&& f) {
  if (t.dtype() == DType::BF16) f(bf16_t{});
  else f(float{});
}

}  // namespace

// One exhaustive switch (-Werror=switch, no default): a new op in ops.def does not compile until
// it has its case here. Ops with bf16 storage pick their activations' type inside the case.
void cuda_run(const OpCall& c) {
  auto s = static_cast<cudaStream_t>(device::stream());
  const int64_t n = c.out[0].numel();
  const Tensor& y = c.out[0];
  Scratch scratch;
  switch (c.op) {
    case Op::Fill: return cuda::fill(y.raw_data(), y.dtype(), n, params<Op::Fill>(c).value, s);
    case Op::Copy: {
      const Tensor& src = c.in[0];
      CG_CHECK(y.dim() <= cuda::kMaxDims, "cuda Copy: more than ", cuda::kMaxDims, " dims");
      CG_CHECK(src.dtype() != DType::F64, "cuda Copy: f64 tensors are CPU-only");
      cuda::StridedLayout l{int(y.dim()), {}, {}, {}};
      for (int d = 0; d < l.ndim; ++d) {
        l.shape[d] = y.shape()[size_t(d)];
        l.in_strides[d] = src.strides()[size_t(d)];
        l.out_strides[d] = y.strides()[size_t(d)];
      }
      return cuda::strided_copy(y.raw_data(), y.dtype(), src.raw_data(), src.dtype(), l, s);
    }
    case Op::TokenRangeCheck:
      return cuda::token_range_check(c.out[0].data<int32_t>(), ids(c, 0), c.in[0].numel(),
                                     params<Op::TokenRangeCheck>(c).vocab, s);
    case Op::Add:
      return with_storage(y, [&]<class T>(T) { cuda::add(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), params<Op::Add>(c).alpha, n, s); });
    case Op::Mul: return with_storage(y, [&]<class T>(T) { cuda::mul(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), n, s); });
    case Op::Scale:
      return with_storage(y, [&]<class T>(T) { cuda::scale(out_t<T>(c, 0), in_t<T>(c, 0), params<Op::Scale>(c).factor, n, s); });
    case Op::BiasAdd:
      return with_storage(y, [&]<class T>(T) {
        cuda::bias_add(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), opt_in_t<T>(c, 2), n / c.in[1].numel(), c.in[1].numel(), s);
      });
    case Op::BiasGelu:
      return with_storage(y, [&]<class T>(T) {
        cuda::bias_gelu_forward(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), n / c.in[1].numel(), c.in[1].numel(), s);
      });
    case Op::BiasGeluBackward:
      return with_storage(y, [&]<class T>(T) {
        cuda::bias_gelu_backward(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), in_t<T>(c, 2), n / c.in[1].numel(),
                                 c.in[1].numel(), s);
      });
    case Op::SumRows:
      return with_storage(y, [&]<class T>(T) { cuda::sum_rows(out_t<T>(c, 0), in_t<T>(c, 0), c.in[0].numel() / n, n, s); });
    case Op::Gelu: return with_storage(y, [&]<class T>(T) { cuda::gelu_forward(out_t<T>(c, 0), in_t<T>(c, 0), n, s); });
    case Op::GeluBackward:
      return with_storage(y, [&]<class T>(T) { cuda::gelu_backward(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), n, s); });
    case Op::Sigmoid: return with_storage(y, [&]<class T>(T) { cuda::sigmoid_forward(out_t<T>(c, 0), in_t<T>(c, 0), n, s); });
    case Op::SigmoidBackward:
      return with_storage(y, [&]<class T>(T) { cuda::sigmoid_backward(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), n, s); });
    case Op::Tanh: return with_storage(y, [&]<class T>(T) { cuda::tanh_forward(out_t<T>(c, 0), in_t<T>(c, 0), n, s); });
    case Op::TanhBackward:
      return with_storage(y, [&]<class T>(T) { cuda::tanh_backward(out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), n, s); });
    case Op::Matmul: {
      const MatmulParams& p = params<Op::Matmul>(c);
      const auto handle = static_cast<cublasHandle_t>(device::cublas_handle());
      if (c.in[0].dtype() == DType::BF16 && y.dtype() == DType::F32)  // bf16 products, f32 sums
        return cuda::matmul(handle, out_f32(c, 0), in_t<bf16_t>(c, 0), in_t<bf16_t>(c, 1), p.batch, p.m, p.n, p.k, p.trans_a,
                            p.trans_b, p.alpha, p.beta, false);
      return with_storage(y, [&]<class T>(T) {
        cuda::matmul(handle, out_t<T>(c, 0), in_t<T>(c, 0), in_t<T>(c, 1), p.batch, p.m, p.n, p.k, p.trans_a, p.trans_b,
                     p.alpha, p.beta, p.tensor_cores);
      });
    }
    case Op::Embedding:  // f32 parameter tables or T activations (row gathers), rows gathered into T
      return with_storage(y, [&]<class T>(T) {
        const int32_t* pos = c.in.size() > 2 ? ids(c, 2) : nullptr;
        const int64_t vocab = c.in[1].size(0), positions = c.in.size() > 3 ? c.in[3].size(0) : 0;
        if (std::is_same_v<T, float> || c.in[1].dtype() == DType::F32)
          return cuda::embedding_forward(out_t<T>(c, 0), ids(c, 0), in_f32(c, 1), vocab, pos,
                                         c.in.size() > 3 ? in_f32(c, 3) : nullptr, positions, c.in[0].numel(),
                                         c.in[1].size(1), s);
        return cuda::embedding_forward(out_t<T>(c, 0), ids(c, 0), in_t<T>(c, 1), vocab, pos, opt_in_t<T>(c, 3),
                                       positions, c.in[0].numel(), c.in[1].size(1), s);
      });
    case Op::EmbeddingBackward:  // T gradient rows into the f32 table gradient
      return with_storage(c.in[1], [&]<class T>(T) {
        cuda::embedding_backward(out_f32(c, 0), y.size(0), ids(c, 0), in_t<T>(c, 1), c.in[0].numel(), y.size(1), s);
      });
    case Op::LayerNorm:
      return with_storage(y, [&]<class T>(T) {
        const int64_t cols = c.in[1].numel();
        cuda::layernorm_forward(out_t<T>(c, 0), out_f32(c, 1), out_f32(c, 2), in_t<T>(c, 0), in_t<T>(c, 1), in_t<T>(c, 2),
                                n / cols, cols, params<Op::LayerNorm>(c).eps, s);
      });
    case Op::LayerNormBackward:
      return with_storage(y, [&]<class T>(T) {
        const int64_t cols = c.in[2].numel();
        cuda::layernorm_backward(out_t<T>(c, 0), out_t<T>(c, 1), out_t<T>(c, 2), in_t<T>(c, 0), in_t<T>(c, 1),
                                 in_t<T>(c, 2), in_f32(c, 3), in_f32(c, 4), n / cols, cols, s);
      });
    case Op::Softmax: {
      const int64_t cols = y.size(-1);
      return cuda::softmax_forward(out_f32(c, 0), in_f32(c, 0), n / cols, cols, s);
    }
    case Op::SoftmaxBackward: {
      const int64_t cols = y.size(-1);
      return cuda::softmax_backward(out_f32(c, 0), in_f32(c, 0), in_f32(c, 1), n / cols, cols, s);
    }
    case Op::Attention:
      return with_storage(y, [&]<class T>(T) {
        const AttentionParams& p = params<Op::Attention>(c);
        const int64_t workspace = cuda::attention_forward_workspace(p);
        cuda::attention_forward(out_t<T>(c, 0), out_f32(c, 1), workspace ? scratch(workspace) : nullptr, in_t<T>(c, 0),
                                in_t<T>(c, 1), in_t<T>(c, 2), c.in.size() > 3 ? in_f32(c, 3) : nullptr, p, s);
      });
    case Op::AttentionBackward:
      return with_storage(y, [&]<class T>(T) {
        T* dq = out_t<T>(c, 0);
        float* dq_acc = std::is_same_v<T, float> ? reinterpret_cast<float*>(dq) : scratch(y.numel());
        cuda::attention_backward(dq_acc, dq, out_t<T>(c, 1), out_t<T>(c, 2), scratch(c.in[4].numel()), in_t<T>(c, 0),
                                 in_t<T>(c, 1), in_t<T>(c, 2), in_t<T>(c, 3), in_f32(c, 4), in_t<T>(c, 5),
                                 c.in.size() > 6 ? in_f32(c, 6) : nullptr, params<Op::AttentionBackward>(c), s);
      });
    case Op::MaskedPool: {
      const Shape& d = c.in[0].shape();
      return cuda::masked_pool(out_f32(c, 0), in_f32(c, 0), in_f32(c, 1), d[0], d[1], d[2], params<Op::MaskedPool>(c).mean, s);
    }
    case Op::MaskedPoolBackward: {
      const Shape& d = y.shape();
      return cuda::masked_pool_backward(out_f32(c, 0), in_f32(c, 0), in_f32(c, 1), d[0], d[1], d[2],
                                        params<Op::MaskedPoolBackward>(c).mean, s);
    }
    case Op::SumAll: case Op::SumSquares: {
      const int64_t count = c.in[0].numel(), parts = cuda::sum_partials(count);
      float* partials = parts ? scratch(parts) : nullptr;
      return c.op == Op::SumAll ? cuda::sum_all(out_f32(c, 0), partials, in_f32(c, 0), count, s)
                                : cuda::sum_squares(out_f32(c, 0), partials, in_f32(c, 0), count, s);
    }
    case Op::LogsumexpChunk:  // T logits chunk into the f32 running state
      return with_storage(c.in[0], [&]<class T>(T) {
        cuda::logsumexp_chunk(out_f32(c, 0), out_f32(c, 1), out_f32(c, 2), in_t<T>(c, 0), ids(c, 1), c.in[0].size(0), c.in[0].size(1),
                              params<Op::LogsumexpChunk>(c).first_token, s);
      });
    case Op::WeightedLogprob: {
      const int64_t rows = c.in[0].numel();
      return cuda::weighted_logprob(out_f32(c, 0), out_f32(c, 1), scratch(rows), in_f32(c, 0), in_f32(c, 1), in_f32(c, 2), in_f32(c, 3),
                                    in_f32(c, 4), rows, rows / c.in[4].numel(), s);
    }
    case Op::WeightedLogprobBackward:
      return with_storage(y, [&]<class T>(T) {
        const int64_t rows = c.in[0].size(0);
        cuda::weighted_logprob_backward(out_t<T>(c, 0), in_t<T>(c, 0), in_f32(c, 1), ids(c, 2), in_f32(c, 3), in_f32(c, 4), in_f32(c, 5),
                                        rows, c.in[0].size(1), rows / c.in[4].numel(),
                                        params<Op::WeightedLogprobBackward>(c).first_token, s);
      });
    case Op::BceWithLogits:
      return cuda::bce_with_logits_forward(out_f32(c, 0), scratch(c.in[0].numel()), in_f32(c, 0), in_f32(c, 1), c.in[0].numel(), s);
    case Op::BceWithLogitsBackward: return cuda::bce_with_logits_backward(out_f32(c, 0), in_f32(c, 0), in_f32(c, 1), in_f32(c, 2), n, s);
    case Op::AdamW: return cuda::adamw(out_f32(c, 0), in_f32(c, 0), out_f32(c, 1), out_f32(c, 2), n, params<Op::AdamW>(c), s);
    case Op::SampleLogits: {
      const int64_t rows = c.in[0].size(0), vocab = c.in[0].size(1);
      const SampleParams& p = params<Op::SampleLogits>(c);
      const int64_t work = cuda::sample_workspace(rows, vocab, p);
      return cuda::sample_logits(c.out[2].data<int32_t>(), out_f32(c, 0), out_f32(c, 1), work ? scratch(work) : nullptr,
                                 in_f32(c, 0), rows, vocab, p, c.in.size() > 1 ? c.in[1].data<int32_t>() : nullptr, s);
    }
    case Op::TopKLogits:
      return cuda::top_k_logits(out_f32(c, 0), in_f32(c, 0), c.in[0].size(0), c.in[0].size(1), params<Op::TopKLogits>(c), s);
    case Op::PhiloxUniform: {
      const PhiloxParams& p = params<Op::PhiloxUniform>(c);
      return cuda::philox_uniform(out_f32(c, 0), n, p, s);
    }
    case Op::Count: break;
  }
  fail("cuda backend: no kernel for op ", op_name(c.op));
}

}  // namespace coopgen
