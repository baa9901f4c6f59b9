// What the host asks of the GPU, counted where coopgen's own code asks it: engine/dispatch.cpp (ops
// run on the CUDA backend), the kernels' one launch helper (kernels/cuda/common.cuh), the cuBLAS
// calls (kernels/cuda/matmul.cu) and the runtime layer (engine/device.cpp: copies, synchronisations,
// allocations reaching the driver). These are decisions of the host code, so the emulator counts
// exactly what the GPU would. A leaf header: kernels/ and engine/ both include it.
#pragma once
#include <cstdint>

namespace coopgen {

struct DeviceCounters {
  int64_t ops = 0;            // engine ops dispatched to the CUDA backend
  int64_t launches = 0;       // kernel launches
  int64_t blas_calls = 0;     // cuBLAS calls (each may launch kernels of its own, not counted above)
  int64_t syncs = 0;          // host waits for the device: device-to-host copies (item(), .to(CPU)),
                              // stream and event synchronisations (uploads return once staged: no wait)
  int64_t h2d_bytes = 0;      // host → device
  int64_t d2h_bytes = 0;      // device → host
  int64_t driver_allocs = 0;  // cudaMalloc calls (the caching allocator's misses)

  DeviceCounters operator-(const DeviceCounters& o) const {
    return {ops - o.ops, launches - o.launches, blas_calls - o.blas_calls, syncs - o.syncs,
            h2d_bytes - o.h2d_bytes, d2h_bytes - o.d2h_bytes, driver_allocs - o.driver_allocs};
  }
  // The fields by name, in order, for reports: visit(name, value).
  template <class F> void each(F&& visit) const {
    visit("ops", ops), visit("launches", launches), visit("blas_calls", blas_calls), visit("syncs", syncs);
    visit("h2d_bytes", h2d_bytes), visit("d2h_bytes", d2h_bytes), visit("driver_allocs", driver_allocs);
  }
};

// The process's running totals. One host thread drives the device (one GPU per process), so plain
// integers suffice. Counting never changes what is computed.
inline DeviceCounters& device_counters() {
  static DeviceCounters totals;
  return totals;
}

// Counts from its construction: PerfCounters c; step(); c.read() is what step() asked of the device.
class PerfCounters {
 public:
  PerfCounters() : start_(device_counters()) {}
  DeviceCounters read() const { return device_counters() - start_; }

 private:
  DeviceCounters start_;
};

}  // namespace coopgen
