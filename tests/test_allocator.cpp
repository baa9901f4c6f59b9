#include <catch2/catch.hpp>

#include "core/sanitizers.h"
#include "engine/allocator.h"
#include "engine/ops.h"

#include <cstdlib>

#if defined(COOPGEN_ASAN)
#include <sanitizer/asan_interface.h>
#endif

using namespace coopgen;

TEST_CASE("the caching allocator reaches a steady state with no backend calls", "[allocator]") {
  CachingAllocator& a = allocator(Device::CPU);
  auto step = [] {  // a small forward/backward/update, like a training step
    Tensor w = Tensor::uniform({33, 17}, 1, 0).requires_grad_();
    Tensor x = Tensor::uniform({9, 33}, 2, 0);
    Tensor loss = sum(gelu(matmul(x, w)));
    loss.backward();
    return w.grad().numel();
  };
  step();
  step();
  const AllocatorStats before = a.stats();
  for (int k = 0; k < 5; ++k) step();
  const AllocatorStats after = a.stats();
  REQUIRE(after.raw_allocs == before.raw_allocs);
  REQUIRE(after.current_bytes == before.current_bytes);
  REQUIRE(after.peak_bytes >= after.current_bytes);
}

TEST_CASE("allocator accounting", "[allocator]") {
  CachingAllocator a(Device::CPU, [](size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); });
  REQUIRE(CachingAllocator::round_size(1) == 512);
  REQUIRE(CachingAllocator::round_size(513) == 1024);
  REQUIRE(CachingAllocator::round_size((size_t(1) << 21) + 1) == (size_t(1) << 21) + (size_t(1) << 19));
  void* p = a.allocate(1000);
  void* q = a.allocate(3000);
  REQUIRE(a.stats().current_bytes == 1024 + 3072);
  a.release(p);
  REQUIRE(a.stats().current_bytes == 3072);
  REQUIRE(a.stats().peak_bytes == 1024 + 3072);
  void* r = a.allocate(900);  // same rounded size: the cached block comes back
  REQUIRE(r == p);
  REQUIRE(a.stats().raw_allocs == 2);
  a.release(q);
  a.release(r);
  a.empty_cache();
  REQUIRE(a.stats().reserved_bytes == 0);
  REQUIRE(a.stats().raw_frees == 2);
  REQUIRE_THROWS_WITH(a.release(reinterpret_cast<void*>(0x1000)), Catch::Contains("unknown pointer"));
}

#if defined(COOPGEN_ASAN)
TEST_CASE("under ASan the slack after a tensor's end is poisoned", "[allocator]") {
  Tensor t = Tensor::empty({250});  // 1000 bytes in a 1024-byte block
  const char* p = static_cast<const char*>(t.raw_data());
  REQUIRE_FALSE(__asan_address_is_poisoned(p + 999));
  REQUIRE(__asan_address_is_poisoned(p + 1000));
  REQUIRE(__asan_address_is_poisoned(p + 1023));
}
#endif

TEST_CASE("a graph pool keeps its blocks from everyone else until it is dropped", "[allocator]") {
  // A private allocator, so other tests' cached blocks do not enter the count.
  CachingAllocator a(Device::CPU, [](size_t n) { return std::aligned_alloc(64, n); }, [](void* p) { std::free(p); });
  void* before = a.allocate(1000);  // allocated outside the pool, released inside it: adopted
  const int64_t pool = a.begin_pool();
  void* inside = a.allocate(1000);
  a.release(before);
  void* reused = a.allocate(1000);  // within the capture, the pool's own blocks are reused
  REQUIRE(reused == before);
  a.end_pool();
  a.release(reused);  // after the capture, the pool's blocks still return to it
  a.release(inside);
  void* outside = a.allocate(1000);  // not one of the pool's two blocks
  REQUIRE(outside != before);
  REQUIRE(outside != inside);
  REQUIRE(a.stats().raw_allocs == 3);
  REQUIRE_THROWS_WITH(a.end_pool(), Catch::Contains("no graph pool is open"));
  REQUIRE_THROWS_WITH(a.drop_pool(pool + 1), Catch::Contains("is not a closed pool"));
  a.drop_pool(pool);
  a.release(outside);
  void* x = a.allocate(1000), *y = a.allocate(1000), *z = a.allocate(1000);  // the three cached blocks again
  REQUIRE(a.stats().raw_allocs == 3);
  for (void* p : {x, y, z}) a.release(p);
}
