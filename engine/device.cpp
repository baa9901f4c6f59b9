#include "engine/device.h"

#include <cstring>
#include <utility>
#include <vector>

#include "core/counters.h"
#include "core/error.h"

#ifdef COOPGEN_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace coopgen::device {

#ifdef COOPGEN_WITH_CUDA

#define CG_CUDA_CHECK(call)                                                              \
  do {                                                                                   \
    cudaError_t err_ = (call);                                                           \
    if (err_ != cudaSuccess) ::coopgen::fail("CUDA error in ", #call, ": ", cudaGetErrorString(err_), \
                                             " (", __FILE__, ":", __LINE__, ")");           \
  } while (0)

bool cuda_compiled() { return true; }

bool cuda_available() {
  static const bool available = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return false;
    }
    return n > 0;
  }();
  return available;
}

void require_cuda() {
  if (!cuda_available()) fail("device cuda requested, but no CUDA GPU is visible to this process");
}

constexpr size_t kMaxDeferred = 64;
struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int32_t* verdicts = nullptr;  // pinned: the deferred counts land here without a wait of their own
  std::vector<std::function<std::string(int64_t)>> deferred;  // messages of the counts copied in
  Context() {
    require_cuda();
    CG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    if (cublasCreate(&cublas) != CUBLAS_STATUS_SUCCESS) fail("cuBLAS: cublasCreate failed");
    cublasSetStream(cublas, stream);
    CG_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&verdicts), kMaxDeferred * sizeof(int32_t)));
  }
};
static Context& context() {
  static Context ctx;  // one GPU per process: the rank's device is chosen before first use
  return ctx;
}

// After a wait for the stream: fails on the first deferred count that is not zero.
static void read_verdicts() {
  Context& ctx = context();
  const auto deferred = std::exchange(ctx.deferred, {});
  for (size_t k = 0; k < deferred.size(); ++k)
    if (ctx.verdicts[k]) fail(deferred[k](ctx.verdicts[k]));
}

static void wait_for_stream() {
  ++device_counters().syncs;
  CG_CUDA_CHECK(cudaStreamSynchronize(context().stream));
  read_verdicts();
}

void defer_check(const int32_t* count, std::function<std::string(int64_t)> message) {
  Context& ctx = context();
  if (ctx.deferred.size() == kMaxDeferred) wait_for_stream();
  CG_CUDA_CHECK(cudaMemcpyAsync(ctx.verdicts + ctx.deferred.size(), count, sizeof(int32_t), cudaMemcpyDeviceToHost,
                                ctx.stream));
  device_counters().d2h_bytes += int64_t(sizeof(int32_t));
  ctx.deferred.push_back(std::move(message));
}

void* cuda_malloc(size_t bytes) {
  require_cuda();
  void* p = nullptr;
  ++device_counters().driver_allocs;
  cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  CG_CUDA_CHECK(err);
  return p;
}

void cuda_free(void* ptr) { CG_CUDA_CHECK(cudaFree(ptr)); }

void copy(void* dst, Device dd, const void* src, Device sd, size_t bytes) {
  if (bytes == 0) return;
  if (dd == Device::CPU && sd == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cudaMemcpyKind kind = sd == Device::CPU   ? cudaMemcpyHostToDevice
                        : dd == Device::CPU ? cudaMemcpyDeviceToHost
                                            : cudaMemcpyDeviceToDevice;
  CG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, context().stream));
  // An upload from pageable memory returns once the bytes are staged, so the host buffer may go and
  // nothing waits for the device; a download must wait for the bytes to arrive.
  if (sd == Device::CPU) device_counters().h2d_bytes += int64_t(bytes);
  if (dd == Device::CPU) {
    device_counters().d2h_bytes += int64_t(bytes);
    wait_for_stream();
  }
}

void fill_bytes(void* ptr, Device d, int byte, size_t bytes) {
  if (d == Device::CPU) std::memset(ptr, byte, bytes);
  else CG_CUDA_CHECK(cudaMemsetAsync(ptr, byte, bytes, context().stream));
}

void synchronize() { wait_for_stream(); }
void select_gpu(int index) {
  int n = 0;
  CG_CUDA_CHECK(cudaGetDeviceCount(&n));
  if (n > 0) CG_CUDA_CHECK(cudaSetDevice(index % n));
}
void* stream() { return context().stream; }
double stream_elapsed_ms(const std::function<void()>& body) {
  cudaEvent_t start, end;
  CG_CUDA_CHECK(cudaEventCreate(&start));
  CG_CUDA_CHECK(cudaEventCreate(&end));
  CG_CUDA_CHECK(cudaEventRecord(start, context().stream));
  body();
  CG_CUDA_CHECK(cudaEventRecord(end, context().stream));
  ++device_counters().syncs;
  CG_CUDA_CHECK(cudaEventSynchronize(end));
  float ms = 0;
  CG_CUDA_CHECK(cudaEventElapsedTime(&ms, start, end));
  CG_CUDA_CHECK(cudaEventDestroy(start));
  CG_CUDA_CHECK(cudaEventDestroy(end));
  read_verdicts();  // the counts deferred before `end` have landed: a wait reads them
  return double(ms);
}
void* cublas_handle() { return context().cublas; }

void check_last_error(const char* what) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) fail("CUDA error after ", what, ": ", cudaGetErrorString(err));
}

#else  // no CUDA backend in this build

[[noreturn]] static void not_built() {
  fail("device cuda requested, but coopgen was built without CUDA (configure with -DCOOPGEN_CUDA=ON)");
}
bool cuda_compiled() { return false; }
bool cuda_available() { return false; }
void require_cuda() { not_built(); }
void* cuda_malloc(size_t) { not_built(); }
void cuda_free(void*) { not_built(); }
void copy(void* dst, Device dd, const void* src, Device sd, size_t bytes) {
  if (dd != Device::CPU || sd != Device::CPU) not_built();
  if (bytes) std::memcpy(dst, src, bytes);
}
void fill_bytes(void* ptr, Device d, int byte, size_t bytes) {
  if (d != Device::CPU) not_built();
  std::memset(ptr, byte, bytes);
}
void synchronize() {}
void defer_check(const int32_t*, std::function<std::string(int64_t)>) { not_built(); }
void select_gpu(int) {}
void* stream() { not_built(); }
double stream_elapsed_ms(const std::function<void()>&) { not_built(); }
void* cublas_handle() { not_built(); }
void check_last_error(const char*) {}

#endif

}  // namespace coopgen::device
