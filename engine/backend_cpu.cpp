// CPU backend: one exhaustive switch from op to the reference kernels in kernels/cpu/.
// Float ops run in f32 or f64 (f64 for gradient checks).
#include <limits>

#include "engine/op.h"
#include "kernels/cpu/adamw.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/copy.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/losses.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/sampling.h"
#include "kernels/cpu/top_k.h"
#include "kernels/philox.h"
#include "kernels/cpu/softmax.h"

namespace coopgen {

bool cpu_supports(Op op, DType t) {
  switch (op_class(op)) {
    case OpClass::Any: return true;
    case OpClass::Index: return t == DType::I32;
    case OpClass::Float: return t == DType::F32 || t == DType::F64;
  }
  return false;
}

namespace {

template <class T> T* out(const OpCall& c, size_t k) { return c.out[k].data<T>(); }
template <class T> const T* in(const OpCall& c, size_t k) { return c.in[k].data<T>(); }
template <class T> const T* opt_in(const OpCall& c, size_t k) {
  return c.in.size() > k ? c.in[k].data<T>() : nullptr;
}

template <class F> void floating(DType t, F&& f) {
  if (t == DType::F32) f(float{});
  else f(double{});
}

template <class T> void run_fill(const OpCall& c) { cpu::fill(out<T>(c, 0), c.out[0].numel(), params<Op::Fill>(c).value); }

}  // namespace

void cpu_run(const OpCall& c) {
  const DType t = c.out[0].dtype();
  const int64_t n = c.out[0].numel();
  switch (c.op) {
    case Op::Fill:
      switch (t) {
        case DType::F32: return run_fill<float>(c);
        case DType::F64: return run_fill<double>(c);
        case DType::BF16: return run_fill<bf16>(c);
        case DType::I32: return run_fill<int32_t>(c);
      }
      return;
    case Op::Copy: {
      const Tensor &src = c.in[0], &dst = c.out[0];
      return cpu::strided_copy(dst.raw_data(), dst.dtype(), dst.strides().data(), src.raw_data(),
                               src.dtype(), src.strides().data(), dst.shape().data(), int(dst.dim()));
    }
    case Op::TokenRangeCheck:
      out<int32_t>(c, 0)[0] = cpu::token_range_check(in<int32_t>(c, 0), c.in[0].numel(), params<Op::TokenRangeCheck>(c).vocab);
      return;
    case Op::Add:
      return floating(t, [&]<class T>(T) { cpu::add(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), params<Op::Add>(c).alpha, n); });
    case Op::Mul:
      return floating(t, [&]<class T>(T) { cpu::mul(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n); });
    case Op::Scale:
      return floating(t, [&]<class T>(T) { cpu::scale(out<T>(c, 0), in<T>(c, 0), params<Op::Scale>(c).factor, n); });
    case Op::BiasAdd:
      return floating(t, [&]<class T>(T) {
        int64_t cols = c.in[1].numel();
        cpu::bias_add(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), opt_in<T>(c, 2), n / cols, cols);
      });
    case Op::SumRows:
      return floating(t, [&]<class T>(T) { cpu::sum_rows(out<T>(c, 0), in<T>(c, 0), c.in[0].numel() / n, n); });
    case Op::Gelu:
      return floating(t, [&]<class T>(T) { cpu::gelu_forward(out<T>(c, 0), in<T>(c, 0), n); });
    case Op::GeluBackward:
      return floating(t, [&]<class T>(T) { cpu::gelu_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n); });
    case Op::BiasGelu:
      return floating(t, [&]<class T>(T) {
        const int64_t cols = c.in[1].numel();
        cpu::bias_gelu_forward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n / cols, cols);
      });
    case Op::BiasGeluBackward:
      return floating(t, [&]<class T>(T) {
        const int64_t cols = c.in[1].numel();
        cpu::bias_gelu_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), in<T>(c, 2), n / cols, cols);
      });
    case Op::Sigmoid:
      return floating(t, [&]<class T>(T) { cpu::sigmoid_forward(out<T>(c, 0), in<T>(c, 0), n); });
    case Op::SigmoidBackward:
      return floating(t, [&]<class T>(T) { cpu::sigmoid_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n); });
    case Op::Tanh:
      return floating(t, [&]<class T>(T) { cpu::tanh_forward(out<T>(c, 0), in<T>(c, 0), n); });
    case Op::TanhBackward:
      return floating(t, [&]<class T>(T) { cpu::tanh_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n); });
    case Op::Matmul:
      return floating(t, [&]<class T>(T) {
        const MatmulParams& p = params<Op::Matmul>(c);
        cpu::matmul(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), p.batch, p.m, p.n, p.k, p.trans_a, p.trans_b, p.alpha, p.beta);
      });
    case Op::Embedding:
      return floating(t, [&]<class T>(T) {
        const bool positions = c.in.size() > 2;
        cpu::embedding_forward(out<T>(c, 0), in<int32_t>(c, 0), in<T>(c, 1), positions ? in<int32_t>(c, 2) : nullptr,
                               opt_in<T>(c, 3), c.in[0].numel(), c.in[1].size(1));
      });
    case Op::EmbeddingBackward:
      return floating(t, [&]<class T>(T) {
        cpu::embedding_backward(out<T>(c, 0), in<int32_t>(c, 0), in<T>(c, 1), c.in[0].numel(), c.out[0].size(1));
      });
    case Op::LayerNorm:
      return floating(t, [&]<class T>(T) {
        int64_t cols = c.in[1].numel();
        cpu::layernorm_forward(out<T>(c, 0), out<T>(c, 1), out<T>(c, 2), in<T>(c, 0), in<T>(c, 1),
                               in<T>(c, 2), n / cols, cols, params<Op::LayerNorm>(c).eps);
      });
    case Op::LayerNormBackward:
      return floating(t, [&]<class T>(T) {
        int64_t cols = c.in[2].numel();
        cpu::layernorm_backward(out<T>(c, 0), out<T>(c, 1), out<T>(c, 2), in<T>(c, 0), in<T>(c, 1),
                                in<T>(c, 2), in<T>(c, 3), in<T>(c, 4), n / cols, cols);
      });
    case Op::Softmax:
      return floating(t, [&]<class T>(T) {
        int64_t cols = c.out[0].size(-1);
        cpu::softmax_forward(out<T>(c, 0), in<T>(c, 0), n / cols, cols);
      });
    case Op::SoftmaxBackward:
      return floating(t, [&]<class T>(T) {
        int64_t cols = c.out[0].size(-1);
        cpu::softmax_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), n / cols, cols);
      });
    case Op::Attention:
      return floating(t, [&]<class T>(T) {
        cpu::attention_forward(out<T>(c, 0), out<T>(c, 1), in<T>(c, 0), in<T>(c, 1), in<T>(c, 2), opt_in<T>(c, 3),
                               params<Op::Attention>(c));
      });
    case Op::AttentionBackward:
      return floating(t, [&]<class T>(T) {
        cpu::attention_backward(out<T>(c, 0), out<T>(c, 1), out<T>(c, 2), in<T>(c, 0), in<T>(c, 1), in<T>(c, 2),
                                in<T>(c, 3), in<T>(c, 4), in<T>(c, 5), opt_in<T>(c, 6), params<Op::AttentionBackward>(c));
      });
    case Op::MaskedPool:
      return floating(t, [&]<class T>(T) {
        const Shape& s = c.in[0].shape();
        cpu::masked_pool(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), s[0], s[1], s[2], params<Op::MaskedPool>(c).mean);
      });
    case Op::MaskedPoolBackward:
      return floating(t, [&]<class T>(T) {
        const Shape& s = c.out[0].shape();
        cpu::masked_pool_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), s[0], s[1], s[2],
                                  params<Op::MaskedPoolBackward>(c).mean);
      });
    case Op::SumAll:
      return floating(t, [&]<class T>(T) { cpu::sum_all(out<T>(c, 0), in<T>(c, 0), c.in[0].numel()); });
    case Op::SumSquares:
      return floating(t, [&]<class T>(T) { cpu::sum_squares(out<T>(c, 0), in<T>(c, 0), c.in[0].numel()); });
    case Op::LogsumexpChunk:
      return floating(t, [&]<class T>(T) {
        cpu::logsumexp_chunk(out<T>(c, 0), out<T>(c, 1), out<T>(c, 2), in<T>(c, 0), in<int32_t>(c, 1),
                             c.in[0].size(0), c.in[0].size(1), params<Op::LogsumexpChunk>(c).first_token);
      });
    case Op::WeightedLogprob:
      return floating(t, [&]<class T>(T) {
        const int64_t rows = c.in[0].numel();
        cpu::weighted_logprob(out<T>(c, 0), out<T>(c, 1), in<T>(c, 0), in<T>(c, 1), in<T>(c, 2), in<T>(c, 3),
                              in<T>(c, 4), rows, rows / c.in[4].numel());
      });
    case Op::WeightedLogprobBackward:
      return floating(t, [&]<class T>(T) {
        const int64_t rows = c.in[0].size(0);
        cpu::weighted_logprob_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), in<int32_t>(c, 2), in<T>(c, 3),
                                       in<T>(c, 4), in<T>(c, 5), rows, c.in[0].size(1), rows / c.in[4].numel(),
                                       params<Op::WeightedLogprobBackward>(c).first_token);
      });
    case Op::BceWithLogits:
      return floating(t, [&]<class T>(T) {
        cpu::bce_with_logits_forward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), c.in[0].numel());
      });
    case Op::BceWithLogitsBackward:
      return floating(t, [&]<class T>(T) {
        cpu::bce_with_logits_backward(out<T>(c, 0), in<T>(c, 0), in<T>(c, 1), in<T>(c, 2), n);
      });
    case Op::AdamW:
      return floating(t, [&]<class T>(T) {
        cpu::adamw(out<T>(c, 0), in<T>(c, 0), out<T>(c, 1), out<T>(c, 2), n, params<Op::AdamW>(c));
      });
    case Op::TopKLogits:
      return floating(t, [&]<class T>(T) {
        cpu::top_k_logits(out<T>(c, 0), in<T>(c, 0), c.in[0].size(0), c.in[0].size(1), params<Op::TopKLogits>(c));
      });
    case Op::SampleLogits:
      return floating(t, [&]<class T>(T) {
        SampleParams p = params<Op::SampleLogits>(c);
        if (c.in.size() > 1) {  // the stream from memory: i32 [4], seed and offset, low and high words
          const int32_t* w = c.in[1].data<int32_t>();
          p.seed = philox::memory_word(w, 0);
          p.offset += philox::memory_word(w, 2);
        }
        cpu::sample_logits(c.out[2].data<int32_t>(), out<T>(c, 0), out<T>(c, 1), in<T>(c, 0), c.in[0].size(0),
                           c.in[0].size(1), p);
      });
    case Op::PhiloxUniform:
      return floating(t, [&]<class T>(T) {
        const PhiloxParams& p = params<Op::PhiloxUniform>(c);
        cpu::philox_uniform(out<T>(c, 0), n, p);
      });
    case Op::Count: break;
  }
  fail("cpu backend: no kernel for op ", op_name(c.op));
}

void set_cpu_threads(int threads) { cpu::set_blas_threads(threads); }

}  // namespace coopgen
