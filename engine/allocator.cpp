#include "engine/allocator.h"

#include <unistd.h>

#include <cstdlib>

#include "engine/device.h"
#include "core/error.h"
#include "core/sanitizers.h"

#if defined(COOPGEN_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace coopgen {

CachingAllocator::CachingAllocator(Device device, RawAlloc raw_alloc, RawFree raw_free)
    : device_(device), raw_alloc_(raw_alloc), raw_free_(raw_free) {}

// Under AddressSanitizer, the slack between the requested size and the rounded block is
// poisoned, so a kernel that reads or writes past the end of a tensor is reported even though
// the block is larger. Only for memory the host can address: CPU memory, and device memory in
// the emulator build (where it is host memory).
[[maybe_unused]] static bool host_addressable(Device d) {
#if defined(COOPGEN_SIM)
  (void)d;
  return true;
#else
  return d == Device::CPU;
#endif
}
static void poison_slack(Device d, void* ptr, size_t used, size_t size) {
#if defined(COOPGEN_ASAN)
  if (host_addressable(d)) __asan_poison_memory_region(static_cast<char*>(ptr) + used, size - used);
#else
  (void)d, (void)ptr, (void)used, (void)size;
#endif
}
static void unpoison_block(Device d, void* ptr, size_t size) {
#if defined(COOPGEN_ASAN)
  if (host_addressable(d)) __asan_unpoison_memory_region(ptr, size);
#else
  (void)d, (void)ptr, (void)size;
#endif
}
// A block back in the cache is poisoned whole: any use after its tensor released it (a kernel
// still writing a scratch buffer, a pointer kept past its tensor) is reported by ASan as a
// use-after-poison naming the access, until the block is handed out again.
static void poison_block(Device d, void* ptr, size_t size) { poison_slack(d, ptr, 0, size); }

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  free_cached_locked();
}

size_t CachingAllocator::round_size(size_t bytes) {
  constexpr size_t granule = 512;
  size_t r = (bytes + granule - 1) / granule * granule;
  if (r == 0) r = granule;
  // Large blocks round up to a quarter of their power of two, so sizes that vary a little from
  // step to step (last batch, longer sequences) still reuse cached blocks.
  if (r > (size_t(1) << 20)) {
    size_t p = size_t(1) << (63 - __builtin_clzll(r));
    size_t q = p / 4;
    r = (r + q - 1) / q * q;
  }
  return r;
}

// A free block of exactly `size` bytes taken out of `free`, or nullptr.
static void* take_block(std::multimap<size_t, void*>& free, size_t size) {
  auto it = free.find(size);
  if (it == free.end()) return nullptr;
  void* ptr = it->second;
  free.erase(it);
  return ptr;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  // The open graph pool's own free blocks first, then the shared cache, then new memory.
  void* ptr = open_pool_ ? take_block(pool_free_[open_pool_], size) : nullptr;
  if (!ptr) ptr = take_block(cached_, size);
  if (!ptr) {
    ptr = raw_alloc_(size);
    // Out of memory: give the cache back and try once more; not during a graph capture, where
    // freeing device memory would wait for the device.
    if (!ptr && !open_pool_) {
      free_cached_locked();
      ptr = raw_alloc_(size);
    }
    if (!ptr)
      fail(device_name(device_), " allocator: out of memory allocating ", size, " bytes (",
           stats_.current_bytes, " bytes live, ", stats_.reserved_bytes, " reserved",
           open_pool_ ? "; during a CUDA graph capture, which cannot give the cache back" : "", ")");
    stats_.raw_allocs++;
    stats_.reserved_bytes += size;
  }
  if (open_pool_) pool_of_[ptr] = open_pool_;
  unpoison_block(device_, ptr, size);
  if (poison_) device::fill_bytes(ptr, device_, 0xFF, size);
  // A pool's blocks stay addressable whole: the graph's replays use them after their tensors are gone.
  if (!pool_of_.count(ptr)) poison_slack(device_, ptr, bytes, size);
  live_[ptr] = size;
  stats_.current_bytes += size;
  if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
  return ptr;
}

void CachingAllocator::release(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  CG_CHECK(it != live_.end(), device_name(device_), " allocator: release of an unknown pointer");
  stats_.current_bytes -= it->second;
  if (open_pool_ && !pool_of_.count(ptr)) pool_of_[ptr] = open_pool_;
  if (auto pool = pool_of_.find(ptr); pool != pool_of_.end()) {
    unpoison_block(device_, ptr, it->second);
    pool_free_[pool->second].emplace(it->second, ptr);
  } else {
    poison_block(device_, ptr, it->second);
    cached_.emplace(it->second, ptr);
  }
  live_.erase(it);
}

int64_t CachingAllocator::begin_pool() {
  std::lock_guard<std::mutex> lock(mu_);
  CG_CHECK(!open_pool_, device_name(device_), " allocator: a graph pool is already open");
  return open_pool_ = ++pools_;
}

void CachingAllocator::end_pool() {
  std::lock_guard<std::mutex> lock(mu_);
  CG_CHECK(open_pool_, device_name(device_), " allocator: no graph pool is open");
  open_pool_ = 0;
}

void CachingAllocator::drop_pool(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  CG_CHECK(id > 0 && id <= pools_ && id != open_pool_, device_name(device_), " allocator: graph pool ", id,
           " is not a closed pool");
  for (auto& [size, ptr] : pool_free_[id]) {
    poison_block(device_, ptr, size);
    cached_.emplace(size, ptr);
  }
  pool_free_.erase(id);
  std::erase_if(pool_of_, [id](const auto& entry) { return entry.second == id; });
}

void CachingAllocator::free_cached_locked() {
  for (auto& [size, ptr] : cached_) {
    unpoison_block(device_, ptr, size);
    raw_free_(ptr);
    stats_.raw_frees++;
    stats_.reserved_bytes -= size;
  }
  cached_.clear();
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  free_cached_locked();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak_bytes = stats_.current_bytes;
}

static void* host_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
static void host_free(void* p) { std::free(p); }

double host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? double(pages) * double(page) : 0.0;
}

CachingAllocator& allocator(Device device) {
  // Function-local statics: constructed on first use, destroyed at exit after all tensors that
  // live in static storage of later-constructed objects.
  if (device == Device::CPU) {
    static CachingAllocator cpu(Device::CPU, host_alloc, host_free);
    return cpu;
  }
  static CachingAllocator cuda(Device::CUDA, device::cuda_malloc, device::cuda_free);
  return cuda;
}

}  // namespace coopgen
