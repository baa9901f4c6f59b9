// Caching allocator: blocks freed by tensors go back to a per-device cache and are handed out
// again for requests of the same rounded size, so a training step in steady state makes no
// cudaMalloc/cudaFree calls (benchmarks read raw_allocs to prove it). One stream per device is
// used throughout, so a block reused on that stream is ordered after its previous uses.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/dtype.h"

namespace coopgen {

struct AllocatorStats {
  size_t current_bytes = 0;   // held by live tensors
  size_t peak_bytes = 0;      // max of current_bytes since the last reset_peak()
  size_t reserved_bytes = 0;  // live + cached, i.e. what the backend has handed us
  size_t raw_allocs = 0;      // calls into the backend allocator (cudaMalloc / aligned_alloc)
  size_t raw_frees = 0;
};

class CachingAllocator {
 public:
  using RawAlloc = void* (*)(size_t bytes);  // returns nullptr when out of memory
  using RawFree = void (*)(void* ptr);
  CachingAllocator(Device device, RawAlloc raw_alloc, RawFree raw_free);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t bytes);
  void release(void* ptr);
  void empty_cache();  // returns every cached block to the backend
  AllocatorStats stats() const;
  void reset_peak();

  // Private pools for CUDA graphs (device::Graph): between begin_pool() and end_pool(), blocks
  // handed out belong to a new pool, and so do blocks released meanwhile (the capture may have
  // recorded work that reads them). A pool's block, released, returns to its pool, never to the
  // shared cache, since each replay of the graph writes to it; drop_pool(id) gives the pool's free
  // blocks back to the cache, and its live ones return there when released.
  int64_t begin_pool();
  void end_pool();
  void drop_pool(int64_t id);

  // Tests: fill every block handed out with 0xFF bytes (NaN for floats, −1 for ints), so a
  // kernel that leaves part of its output unwritten is caught.
  void set_poison(bool on) { poison_ = on; }

  static size_t round_size(size_t bytes);  // 512-byte granules; power-of-two buckets above 1 MiB/4

 private:
  void free_cached_locked();
  Device device_;
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> cached_;       // size -> free block
  std::unordered_map<void*, size_t> live_;    // block -> size
  int64_t open_pool_ = 0, pools_ = 0;          // the pool being filled (0: none), pools made
  std::unordered_map<void*, int64_t> pool_of_;                 // block -> its graph pool
  std::unordered_map<int64_t, std::multimap<size_t, void*>> pool_free_;  // pool -> free blocks
  AllocatorStats stats_;
  bool poison_ = false;
};

// The process-wide allocator of a device (created on first use).
CachingAllocator& allocator(Device device);

// This machine's physical memory in bytes (0 where the system does not say): the bound against
// which a size read from a config is refused before anything is allocated.
double host_memory_bytes();

}  // namespace coopgen
