// Kernel-level op calls: one enum built from engine/ops.def, one OpCall record whose parameters
// are the op's own struct (kernels/params.h), one dispatch point that sends a call to the backend
// of its tensors' device.
#pragma once
#include <string_view>
#include <variant>
#include <vector>

#include "engine/tensor.h"
#include "kernels/params.h"

namespace coopgen {

enum class Op : int {
#define COOPGEN_OP(name, cls, params) name,
#include "engine/ops.def"
#undef COOPGEN_OP
  Count
};

inline constexpr std::string_view op_names[] = {
#define COOPGEN_OP(name, cls, params) #name,
#include "engine/ops.def"
#undef COOPGEN_OP
};
static_assert(std::size(op_names) == size_t(Op::Count), "every op needs a name");

enum class OpClass { Any, Index, Float };
inline constexpr OpClass op_classes[] = {
#define COOPGEN_OP(name, cls, params) OpClass::cls,
#include "engine/ops.def"
#undef COOPGEN_OP
};
static_assert(std::size(op_classes) == size_t(Op::Count));
inline OpClass op_class(Op op) { return op_classes[static_cast<unsigned>(op) % std::size(op_classes)]; }

inline std::string_view op_name(Op op) {
  const auto k = static_cast<unsigned>(op);
  return k < std::size(op_names) ? op_names[k] : std::string_view("?");
}

// Every parameter struct an op may carry.
using OpParams = std::variant<NoParams, FillParams, AddParams, ScaleParams, MatmulParams, LayerNormParams,
                              AttentionParams, PoolParams, ChunkParams, AdamWParams, SampleParams, TopKParams, PhiloxParams,
                              TokenRangeParams>;

// Op → its parameter struct, from the third column of ops.def.
template <Op> struct OpParamsOf;
#define COOPGEN_OP(name, cls, params)                                                                      \
  template <> struct OpParamsOf<Op::name> {                                                                \
    using type = params;                                                                                   \
  };                                                                                                       \
  static_assert(std::is_constructible_v<OpParams, params>, #name "'s " #params " is missing from OpParams");
#include "engine/ops.def"
#undef COOPGEN_OP
template <Op O> using params_t = typename OpParamsOf<O>::type;

struct OpCall {
  Op op;
  std::vector<Tensor> in;
  std::vector<Tensor> out;
  OpParams params;
};

// A call to op O: its parameters are the struct ops.def names for it, checked when it compiles.
template <Op O> OpCall op_call(std::vector<Tensor> in, std::vector<Tensor> out, params_t<O> p = {}) {
  return {O, std::move(in), std::move(out), p};
}

// The parameters of a call to op O (as the backends read them).
template <Op O> const params_t<O>& params(const OpCall& c) { return std::get<params_t<O>>(c.params); }

// Does the backend of `device` implement `op` for element type `dtype`? The dispatcher asks the
// same question before it runs a call, so "supported" and "what runs" cannot disagree.
bool supports(Op op, Device device, DType dtype);

// Runs the call on the device of its first output (all tensors must share it), then checks for
// a CUDA error and names the op if there is one. The call's parameters must be its op's struct.
void dispatch(const OpCall& call);

// Backends (engine/backend_cpu.cpp, engine/backend_cuda.cpp).
bool cpu_supports(Op op, DType dtype);
void cpu_run(const OpCall& call);
bool cuda_supports(Op op, DType dtype);
void cuda_run(const OpCall& call);

}  // namespace coopgen
