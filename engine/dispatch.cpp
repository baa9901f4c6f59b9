#include "core/counters.h"
#include "engine/device.h"
#include "engine/op.h"

namespace coopgen {

bool supports(Op op, Device device, DType dtype) {
  if (device == Device::CPU) return cpu_supports(op, dtype);
#ifdef COOPGEN_WITH_CUDA
  return cuda_supports(op, dtype);
#else
  return false;
#endif
}

// The index in OpParams of each op's parameter struct, from ops.def.
static constexpr size_t kParamsKind[] = {
#define COOPGEN_OP(name, cls, params) OpParams(params{}).index(),
#include "engine/ops.def"
#undef COOPGEN_OP
};

void dispatch(const OpCall& call) {
  CG_CHECK(!call.out.empty(), "op ", op_name(call.op), " has no output");
  CG_CHECK(size_t(call.op) < size_t(Op::Count) && call.params.index() == kParamsKind[size_t(call.op)], "op ",
           op_name(call.op), ": its parameters are not the struct ops.def names for it");
  const Device device = call.out[0].device();
  const DType dtype = call.out[0].dtype();
  for (const Tensor& t : call.in)
    if (t.device() != device)
      fail("op ", op_name(call.op), ": input ", describe(t), " is not on ", device_name(device),
           " with the output; move it with .to()");
  for (const Tensor& t : call.out)
    if (t.device() != device) fail("op ", op_name(call.op), ": outputs on different devices");
  if (device == Device::CUDA) device::require_cuda();
  if (!supports(call.op, device, dtype)) {
    fail("op ", op_name(call.op), " is not implemented on ", device_name(device), " for ",
         dtype_name(dtype));
  }
  if (device == Device::CPU) {
    cpu_run(call);
    return;
  }
#ifdef COOPGEN_WITH_CUDA
  ++device_counters().ops;
  cuda_run(call);
  device::check_last_error(op_name(call.op).data());
#endif
}

}  // namespace coopgen
