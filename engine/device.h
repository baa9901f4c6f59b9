// The CUDA runtime as the engine sees it: memory, copies, the one compute stream and its cuBLAS
// handle. In a build without CUDA every call fails with a clear message, except cuda_available().
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/dtype.h"

namespace coopgen::device {

bool cuda_compiled();   // was the CUDA backend built?
bool cuda_available();  // ... and is a GPU present?
void require_cuda();    // fails with the reason when CUDA cannot run here
void* cuda_malloc(size_t bytes);  // nullptr when out of memory
void cuda_free(void* ptr);
// Copy between any pair of devices; returns after the data is at dst (synchronous for the host).
void copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void fill_bytes(void* ptr, Device device, int byte, size_t bytes);
void synchronize();
// The GPU this process uses (a rank's local rank, modulo the GPUs visible); before first use.
void select_gpu(int index);
void* stream();         // the compute stream (cudaStream_t)
void* cublas_handle();  // bound to stream()
// Milliseconds the compute stream spends from before `body`'s work to after it (CUDA events
// around it; waits for the end): what the benchmarks time on the GPU.
double stream_elapsed_ms(const std::function<void()>& body);
// A check whose verdict is a count in device memory (one int32 at `count`, which must stay allocated
// until read: `message` keeps its tensor alive): it is read at the next host synchronisation
// (a device-to-host copy, synchronize()), which waits anyway, so the check costs no round trip
// of its own; a non-zero count fails there with message(count). Up to 64 wait at once; one more
// reads them first.
void defer_check(const int32_t* count, std::function<std::string(int64_t)> message);
// A CUDA graph (CUDA Graphs) of the compute stream's work: `body` runs once under stream capture,
// which records the kernels, copies and cuBLAS calls it asks for instead of running them, and
// launch() replays them all with one launch. Tensors the body allocates come from a private pool
// of the caching allocator that lives as long as the graph (each replay writes to the same
// addresses); tensors it reads from outside must outlive the graph too. The body must not wait for
// the device nor copy from or to pageable host memory (the capture fails naming the call). Checks
// it defers (defer_check) are re-armed by each replay and read at the next wait. Counters: a replay
// is one launch plus the bytes its copies move; the capture itself counts no launches.
class Graph {
 public:
  explicit Graph(const std::function<void()>& body);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  void launch();

 private:
  struct Capture;  // what a capture collects (engine/device.cpp)
  friend struct Context;
  friend void defer_check(const int32_t* count, std::function<std::string(int64_t)> message);
  void* exec_ = nullptr;
  int64_t pool_ = 0;
  std::unique_ptr<Capture> captured_;
};

// Named check after each CUDA op: a failure names the op and the CUDA error string.
void check_last_error(const char* what);

}  // namespace coopgen::device
