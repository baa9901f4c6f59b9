// Kernel-level op calls: one enum built from engine/ops.def, one OpCall record, one dispatch
// point that sends a call to the backend of its tensors' device.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tensor.h"
#include "kernels/cpu/attention.h"

namespace coopgen {

enum class Op : int {
#define COOPGEN_OP(name, cls) name,
#include "engine/ops.def"
#undef COOPGEN_OP
  Count
};

inline constexpr std::string_view op_names[] = {
#define COOPGEN_OP(name, cls) #name,
#include "engine/ops.def"
#undef COOPGEN_OP
};
static_assert(std::size(op_names) == size_t(Op::Count), "every op needs a name");

enum class OpClass { Any, Index, Float };
inline constexpr OpClass op_classes[] = {
#define COOPGEN_OP(name, cls) OpClass::cls,
#include "engine/ops.def"
#undef COOPGEN_OP
};
static_assert(std::size(op_classes) == size_t(Op::Count));
inline OpClass op_class(Op op) { return op_classes[static_cast<unsigned>(op) % std::size(op_classes)]; }

inline std::string_view op_name(Op op) {
  const auto k = static_cast<unsigned>(op);
  return k < std::size(op_names) ? op_names[k] : std::string_view("?");
}

struct OpCall {
  Op op;
  std::vector<Tensor> in;
  std::vector<Tensor> out;
  std::array<double, 6> f{};
  std::array<int64_t, 7> i{};
};

// The sizes of an Attention / AttentionBackward call, read alike by both backends: q is in[0],
// k in[1] ([B, H, T, d], rows of d contiguous, heads kv_rows rows apart: a KV cache read in
// place); i0 says causal.
inline cpu::AttentionShape attention_shape(const OpCall& c) {
  const Shape &q = c.in[0].shape(), &k = c.in[1].shape();
  return {q[0], q[1], q[2], k[2], q[3], c.i[0] != 0, k[3] ? c.in[1].strides()[1] / k[3] : k[2]};
}

// Does the backend of `device` implement `op` for element type `dtype`? The dispatcher asks the
// same question before it runs a call, so "supported" and "what runs" cannot disagree.
bool supports(Op op, Device device, DType dtype);

// Runs the call on the device of its first output (all tensors must share it), then checks for
// a CUDA error and names the op if there is one.
void dispatch(const OpCall& call);

// Backends (engine/backend_cpu.cpp, engine/backend_cuda.cpp).
bool cpu_supports(Op op, DType dtype);
void cpu_run(const OpCall& call);
bool cuda_supports(Op op, DType dtype);
void cuda_run(const OpCall& call);

}  // namespace coopgen
