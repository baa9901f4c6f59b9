// The access trace (kernels/sim/trace.h) against figures worked out by hand from the hardware's
// rules: 32-byte sectors per global request, 32 banks of 4-byte words for shared memory served in
// phases, broadcasts free. Runs in the traced emulator build only (COOPGEN_SIM_TRACE, label sim).
#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "kernels/sim/trace.h"
#include "tests/sim/trace_kernels.cuh"

using namespace coopgen;
using namespace coopgen::simtest;
namespace trace = coopgen::sim::trace;

namespace {

// Device buffers of `n` floats: `in` holds 0, 1, 2, …
struct Buffers {
  float* in = nullptr;
  float* out = nullptr;
  explicit Buffers(size_t n) {
    std::vector<float> host(n);
    for (size_t i = 0; i < n; ++i) host[i] = float(i);
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&in), n * 4) == cudaSuccess);
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&out), n * 4) == cudaSuccess);
    REQUIRE(cudaMemcpy(in, host.data(), n * 4, cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~Buffers() {
    CHECK(cudaFree(in) == cudaSuccess);
    CHECK(cudaFree(out) == cudaSuccess);
  }
};

trace::Launch traced(const std::function<void()>& run) {
  trace::start();
  run();
  std::vector<trace::Launch> launches = trace::stop();
  REQUIRE(launches.size() == 1);
  return launches[0];
}

// The one site of the launch in that space and direction.
trace::Site only_site(const trace::Launch& launch, bool shared, bool store) {
  std::vector<trace::Site> found;
  for (const trace::Site& s : launch.sites)
    if (s.shared == shared && s.store == store) found.push_back(s);
  REQUIRE(found.size() == 1);
  return found[0];
}

// The one global site of that direction: its requests, active lanes, sectors and minimum sectors.
void check_global(const trace::Launch& launch, bool store, uint64_t requests, uint64_t lanes, uint64_t sectors,
                  uint64_t min_sectors) {
  INFO((store ? "store" : "load"));
  const trace::Site s = only_site(launch, false, store);
  CHECK(s.requests == requests);
  CHECK(s.lanes == lanes);
  CHECK(s.sectors == sectors);
  CHECK(s.min_sectors == min_sectors);
}

}  // namespace

TEST_CASE("trace: coalesced float copy, 4 rounds: 4 sectors per request", "[sim][trace]") {
  Buffers b(128);
  const trace::Launch l = traced([&] { trace_copy(b.out, b.in); });
  CHECK(l.kernel == "trace_copy");
  // One request per round (the per-lane visit count groups the lanes); 32 × 4 B = 4 sectors each.
  for (bool store : {false, true}) check_global(l, store, 4, 128, 16, 16);
  CHECK(l.unique_load_sectors == 16);  // 512 B
  CHECK(l.unique_store_sectors == 16);
}

TEST_CASE("trace: a stride of 32 floats: 32 sectors per request, 4 needed", "[sim][trace]") {
  Buffers b(1024);
  const trace::Launch l = traced([&] { trace_strided(b.out, b.in); });
  check_global(l, false, 1, 32, 32, 4);  // each lane's 4 B in a sector of its own (128 B apart); 128 B asked for
  check_global(l, true, 1, 32, 4, 4);
  CHECK(l.unique_load_sectors == 32);
}

TEST_CASE("trace: every lane reads one address: 1 sector", "[sim][trace]") {
  Buffers b(32);
  const trace::Launch l = traced([&] { trace_broadcast(b.out, b.in); });
  const trace::Site load = only_site(l, false, false);
  CHECK(load.lanes == 32);
  CHECK(load.sectors == 1);
  CHECK(load.min_sectors == 1);
  CHECK(load.bytes == 4);
}

TEST_CASE("trace: float4 loads and stores: 16 sectors per request", "[sim][trace]") {
  Buffers b(128);
  const trace::Launch l = traced([&] { trace_float4(b.out, b.in); });
  for (bool store : {false, true}) {  // the four field accesses are one 16-byte access
    check_global(l, store, 1, 32, 16, 16);
    CHECK(only_site(l, false, store).bytes == 512);
  }
}

TEST_CASE("trace: 32×32 transpose through shared memory: 32-way conflicts, none when padded", "[sim][trace]") {
  Buffers b(1024);
  for (bool padded : {false, true}) {
    INFO("padded " << padded);
    const trace::Launch l = traced([&] { trace_transpose(b.out, b.in, padded); });
    const trace::Site store = only_site(l, true, true);  // tile[ty][tx]: a warp writes one row
    CHECK(store.requests == 32);
    CHECK(store.wavefronts == 32);
    CHECK(store.max_ways == 1);
    const trace::Site load = only_site(l, true, false);  // tile[tx][ty]: a warp reads one column
    CHECK(load.requests == 32);
    CHECK(load.ideal_wavefronts == 32);
    CHECK(load.wavefronts == (padded ? 32 : 32 * 32));  // column words 32 (33) apart: bank ty (tx + ty)
    CHECK(load.max_ways == (padded ? 1 : 32));
    CHECK(only_site(l, false, false).sectors == 32 * 4);
    CHECK(only_site(l, false, true).sectors == 32 * 4);
  }
}

TEST_CASE("trace: ldmatrix.x4 of an unswizzled tile: 8-way; swizzled: none", "[sim][trace]") {
  uint16_t* in = nullptr;
  uint32_t* out = nullptr;
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&in), 2048 * 2) == cudaSuccess);
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&out), 128 * 4) == cudaSuccess);
  for (int i = 0; i < 2048; ++i) in[i] = uint16_t(i);
  for (bool swizzled : {false, true}) {
    INFO("swizzled " << swizzled);
    const trace::Launch l = traced([&] { trace_ldmatrix(out, in, swizzled); });
    // Rows of 128 B: unswizzled, the 8 rows of a matrix all start at bank 0 and need banks 0-3
    // 8 times (8 wavefronts per matrix); swizzled, row r starts at bank 4·(r % 8): 1 each.
    const trace::Site ld = only_site(l, true, false);
    CHECK(ld.requests == 1);
    CHECK(ld.bytes == 512);
    CHECK(ld.ideal_wavefronts == 4);
    CHECK(ld.wavefronts == (swizzled ? 4 : 32));
    CHECK(ld.max_ways == (swizzled ? 1 : 8));
    // The row addresses name these elements (lane 0, matrix 0 = tile row 0: elements 0, 1).
    CHECK(out[0] == (0u | 1u << 16));
  }
  CHECK(cudaFree(in) == cudaSuccess);
  CHECK(cudaFree(out) == cudaSuccess);
}

TEST_CASE("trace: half the lanes branch away", "[sim][trace]") {
  Buffers b(32);
  const trace::Launch l = traced([&] { trace_half_warp(b.out, b.in); });
  check_global(l, false, 1, 16, 4, 2);  // even lanes: 4 B every 8 B over 128 B; 64 B asked for
}

TEST_CASE("trace: sites name their source line; nothing is recorded after stop", "[sim][trace]") {
  Buffers b(1024);
  const trace::Launch l = traced([&] { trace_transpose(b.out, b.in, false); });
  const trace::Site load = only_site(l, true, false);
  const std::string where = trace::source_lines({load.pc})[0];
  REQUIRE(where.rfind("tests/sim/trace_kernels.cu:", 0) == 0);
  std::ifstream src(std::string(COOPGEN_SOURCE_DIR) + "/tests/sim/trace_kernels.cu");
  std::string text;
  for (int k = 0, line = std::stoi(where.substr(where.find(':') + 1)); k < line; ++k) std::getline(src, text);
  CHECK(text.find("= tile[threadIdx.x][threadIdx.y]") != std::string::npos);
  trace_transpose(b.out, b.in, false);
  trace::start();
  CHECK(trace::stop().empty());
}
