#include "engine/device.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/counters.h"
#include "core/error.h"
#include "engine/allocator.h"

#ifdef COOPGEN_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "kernels/cuda/check.h"
#endif

namespace coopgen::device {

#ifdef COOPGEN_WITH_CUDA

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

// A deferred check: the pinned word its count lands in (owning it when it is a graph's, so a graph
// destroyed before the wait leaves the word readable), and its message.
struct Deferred {
  std::shared_ptr<const int32_t> verdict;
  std::function<std::string(int64_t)> message;
};

// What a capture collects: its deferred checks, whose counts land in pinned words of its own
// (chunks of kSlots), and the bytes its copies move per replay.
struct Graph::Capture {
  static constexpr size_t kSlots = 256;
  std::vector<std::shared_ptr<int32_t>> chunks;
  std::vector<Deferred> checks;
  int64_t h2d_bytes = 0, d2h_bytes = 0;
};

constexpr size_t kMaxDeferred = 64;
struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int32_t* verdicts = nullptr;  // pinned: the deferred counts land here without a wait of their own
  size_t eager = 0;             // verdict words in use
  std::vector<Deferred> deferred;  // counts copied in, waiting for a wait
  Graph::Capture* capture = nullptr;  // the open capture, if any
  Context() {
    require_cuda();
    CG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CG_CUDA_CHECK(cublasCreate(&cublas));
    CG_CUDA_CHECK(cublasSetStream(cublas, stream));
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
  ctx.eager = 0;
  for (const Deferred& d : deferred)
    if (*d.verdict) fail(d.message(*d.verdict));
}

static void wait_for_stream() {
  ++device_counters().syncs;
  CG_CUDA_CHECK(cudaStreamSynchronize(context().stream));
  read_verdicts();
}

void defer_check(const int32_t* count, std::function<std::string(int64_t)> message) {
  Context& ctx = context();
  int32_t* verdict;
  if (Graph::Capture* c = ctx.capture) {  // a word of the graph's own, re-armed at each replay
    const size_t k = c->checks.size();
    if (k % Graph::Capture::kSlots == 0) {
      int32_t* chunk = nullptr;
      CG_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&chunk), Graph::Capture::kSlots * sizeof(int32_t)));
      c->chunks.emplace_back(chunk, [](int32_t* p) {
        cuda_check(std::nothrow, cudaFreeHost(p), "CUDA graph: cudaFreeHost of its check words");
      });
    }
    const std::shared_ptr<int32_t>& chunk = c->chunks[k / Graph::Capture::kSlots];
    verdict = chunk.get() + k % Graph::Capture::kSlots;
    c->checks.push_back({std::shared_ptr<const int32_t>(chunk, verdict), std::move(message)});
  } else {
    if (ctx.eager == kMaxDeferred) wait_for_stream();
    verdict = ctx.verdicts + ctx.eager++;
    ctx.deferred.push_back({std::shared_ptr<const int32_t>(std::shared_ptr<void>(), verdict), std::move(message)});
  }
  CG_CUDA_CHECK(cudaMemcpyAsync(verdict, count, sizeof(int32_t), cudaMemcpyDeviceToHost, ctx.stream));
  device_counters().d2h_bytes += int64_t(sizeof(int32_t));
}

Graph::Graph(const std::function<void()>& body) : captured_(std::make_unique<Capture>()) {
  Context& ctx = context();
  CG_CHECK(!ctx.capture, "CUDA graph: a capture inside another");
  wait_for_stream();  // checks deferred before the capture are read now, not mixed with its own
  const DeviceCounters before = device_counters();
  CachingAllocator& pool = allocator(Device::CUDA);
  pool_ = pool.begin_pool();
  ctx.capture = captured_.get();
  cudaGraph_t graph = nullptr;
  // Whatever fails, the capture is closed and the pool given back before the error goes on.
  auto close = [&] {
    ctx.capture = nullptr;
    pool.end_pool();
  };
  // The capture ran nothing: its counts are what each replay moves, and the driver allocations.
  auto restore_counters = [&] {
    const DeviceCounters during = device_counters() - before;
    captured_->h2d_bytes = during.h2d_bytes;
    captured_->d2h_bytes = during.d2h_bytes;
    device_counters() = before;
    device_counters().driver_allocs += during.driver_allocs;
  };
  try {
    // Relaxed: the allocator may reach cudaMalloc (a new block for the pool) during the capture.
    CG_CUDA_CHECK(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeRelaxed));
    try {
      body();
    } catch (...) {  // the body's error goes on; ending the capture fails with it, so is not checked
      cudaStreamEndCapture(ctx.stream, &graph);
      if (graph)
        cuda_check(std::nothrow, cudaGraphDestroy(graph), "CUDA graph: cudaGraphDestroy after a failed capture");
      cudaGetLastError();
      throw;
    }
    const cudaError_t err = cudaStreamEndCapture(ctx.stream, &graph);
    cuda_check(err, "CUDA graph: the capture failed");
    close();
    cudaGraphExec_t exec = nullptr;
    const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
    const cudaError_t destroyed = cudaGraphDestroy(graph);  // the graph goes whether or not it instantiated
    cuda_check(made, "CUDA graph: cudaGraphInstantiate");
    exec_ = exec;
    cuda_check(std::nothrow, destroyed, "CUDA graph: cudaGraphDestroy");  // the instantiated graph is usable
  } catch (...) {
    if (ctx.capture) close();
    pool.drop_pool(pool_);
    restore_counters();
    throw;
  }
  restore_counters();
}

Graph::~Graph() {
  if (exec_)
    cuda_check(std::nothrow, cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_)), "CUDA graph: cudaGraphExecDestroy");
  allocator(Device::CUDA).drop_pool(pool_);
}

void Graph::launch() {
  Context& ctx = context();
  CG_CHECK(!ctx.capture, "CUDA graph: a replay inside a capture");
  // The last replay's checks not read yet: read them first, or this replay would overwrite them.
  if (!captured_->checks.empty() &&
      std::any_of(ctx.deferred.begin(), ctx.deferred.end(),
                  [&](const Deferred& d) { return d.verdict == captured_->checks.front().verdict; }))
    wait_for_stream();
  CG_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), ctx.stream));
  DeviceCounters& now = device_counters();
  ++now.launches;
  now.h2d_bytes += captured_->h2d_bytes;
  now.d2h_bytes += captured_->d2h_bytes;
  ctx.deferred.insert(ctx.deferred.end(), captured_->checks.begin(), captured_->checks.end());
}

void* cuda_malloc(size_t bytes) {
  require_cuda();
  void* p = nullptr;
  ++device_counters().driver_allocs;
  cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it: the caller frees its cached blocks and tries again
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
  cuda_check(cudaGetLastError(), "CUDA error after ", what);
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
struct Graph::Capture {};
Graph::Graph(const std::function<void()>&) { not_built(); }
Graph::~Graph() = default;
void Graph::launch() { not_built(); }
void select_gpu(int) {}
void* stream() { not_built(); }
double stream_elapsed_ms(const std::function<void()>&) { not_built(); }
void* cublas_handle() { not_built(); }
void check_last_error(const char*) {}

#endif

}  // namespace coopgen::device
