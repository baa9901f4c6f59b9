// The one spelling of a CUDA runtime, cuBLAS or NCCL status check (NCCL's overload sits beside its
// include, engine/communicator.cpp): cuda_check(status, what...) throws coopgen::Error
// "what...: <the library's own text>" unless the status is success. `what` names the call and its
// subject (the kernel, the size, the rank). CG_CUDA_CHECK(call) is the same with the call's own
// source text as `what`. Every call whose status can fail goes through one of them. Where nothing
// may throw (a destructor, a deleter), cuda_check(std::nothrow, status, what...) prints the same
// line to stderr as a warning and goes on: a resource that could not be released is reported, and
// the program's own error, if one is on its way, is not replaced.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <new>

#include "core/error.h"

namespace coopgen {

template <class... What> void cuda_check(cudaError_t status, const What&... what) {
  if (status != cudaSuccess) fail(what..., ": ", cudaGetErrorString(status));
}
template <class... What> void cuda_check(cublasStatus_t status, const What&... what) {
  if (status != CUBLAS_STATUS_SUCCESS) fail(what..., ": ", cublasGetStatusString(status));
}
template <class Status, class... What> void cuda_check(const std::nothrow_t&, Status status, const What&... what) noexcept {
  try {
    cuda_check(status, what...);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coopgen: warning: %s\n", e.what());
  }
}

}  // namespace coopgen

#define CG_CUDA_CHECK(call) ::coopgen::cuda_check((call), #call)
