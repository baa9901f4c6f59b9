// The emulator's semantics against values worked out by hand from the CUDA programming guide,
// and its fault reports. Runs in the sim builds only (label sim).
#include <catch2/catch.hpp>

#include <climits>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "engine/tensor.h"
#include "tests/sim/sim_kernels.cuh"

using namespace coopgen;
using namespace coopgen::simtest;

TEST_CASE("thread and block indices in 1-3 dimensions", "[sim]") {
  const unsigned gx = 3, gy = 2, gz = 2, bx = 5, by = 3, bz = 2;
  std::vector<int> out(gx * gy * gz * bx * by * bz, -1);
  write_indices(out.data(), gx, gy, gz, bx, by, bz);
  size_t k = 0;
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x)
        for (unsigned tz = 0; tz < bz; ++tz)
          for (unsigned ty = 0; ty < by; ++ty)
            for (unsigned tx = 0; tx < bx; ++tx)
              REQUIRE(out[k++] == int(1000000 * z + 100000 * y + 10000 * x + 100 * tz + 10 * ty + tx));
}

// Expected shuffle results, from the programming guide's definition of each variant: lanes are
// split into segments of `width`; a source outside the caller's segment (up/down/xor) yields
// the caller's own value; idx wraps within the segment.
static int expect_shuffle(int t, int mode, int arg, int width) {
  const int lane = t % 32, base = t - lane, seg = lane / width * width;
  int src = lane;
  if (mode == 0) src = seg + arg % width;
  if (mode == 1 && (lane ^ arg) < seg + width) src = lane ^ arg;  // earlier segments are readable
  if (mode == 2 && lane - arg >= seg) src = lane - arg;
  if (mode == 3 && lane + arg < seg + width) src = lane + arg;
  return 100 * (base / 32) + src;
}

TEST_CASE("warp shuffles, full and partial warps, every width", "[sim]") {
  struct Case { int threads, mode, arg, width; };
  const Case cases[] = {{64, 0, 5, 32}, {64, 1, 1, 32}, {64, 1, 16, 32}, {64, 2, 3, 32}, {64, 3, 2, 32},
                        {48, 0, 3, 16}, {48, 1, 4, 8},  {48, 2, 1, 16},  {48, 3, 5, 8},  {40, 1, 2, 4},
                        {40, 3, 1, 8},  {48, 0, 21, 16}};
  for (const Case& c : cases) {
    INFO("threads " << c.threads << " mode " << c.mode << " arg " << c.arg << " width " << c.width);
    std::vector<int> out(size_t(c.threads), -7);
    shuffles(out.data(), c.threads, c.mode, c.arg, c.width);
    for (int t = 0; t < c.threads; ++t) REQUIRE(out[size_t(t)] == expect_shuffle(t, c.mode, c.arg, c.width));
  }
}

TEST_CASE("votes on a full and a partial warp", "[sim]") {
  std::vector<unsigned> out(3 * 40);
  votes(out.data(), 40);
  unsigned full = 0, partial = 0;
  for (unsigned l = 0; l < 32; ++l) full |= (l % 3 == 0 ? 1u : 0u) << l;
  for (unsigned l = 0; l < 8; ++l) partial |= ((32 + l) % 3 == 0 ? 1u : 0u) << l;
  for (unsigned t = 0; t < 40; ++t) {
    REQUIRE(out[3 * t] == (t < 32 ? full : partial));
    REQUIRE(out[3 * t + 1] == (t < 32 ? 1u : 0u));
    REQUIRE(out[3 * t + 2] == 1u);
  }
}

TEST_CASE("atomics on global and shared memory", "[sim]") {
  std::vector<int> out{0, 0, INT_MIN, INT_MAX};
  float fsum = 0;
  atomics(out.data(), &fsum, 3, 70);
  REQUIRE(out[0] == 210);
  REQUIRE(out[1] == 210);
  REQUIRE(out[2] == 209);
  REQUIRE(out[3] == -69);
  REQUIRE(fsum == 105.0f);
}

TEST_CASE("cp.async into shared memory, __syncwarp, atomicCAS", "[sim]") {
  std::vector<float> in(200), out(200, -1);
  std::iota(in.begin(), in.end(), 0.0f);
  int counter = 0;
  async_copy_reverse(out.data(), in.data(), 200, &counter);
  for (int k = 0; k < 200; ++k) REQUIRE(out[size_t(k)] == float(199 - k));
  REQUIRE(counter == 40);
}

TEST_CASE("dynamic shared memory; shared memory starts poisoned", "[sim]") {
  std::vector<float> out(37);
  dynamic_shared_reverse(out.data(), 37);
  for (int t = 0; t < 37; ++t) REQUIRE(out[size_t(t)] == float(36 - t));
  float f = 0;
  int i = 0;
  read_unwritten_shared(&f, &i);
  REQUIRE(std::isnan(f));
  REQUIRE(i == -1);
}

TEST_CASE("blocks run in a shuffled order", "[sim]") {
  std::vector<int> order(64, -1);
  int counter = 0;
  block_order(order.data(), &counter, 64);
  REQUIRE(counter == 64);
  std::vector<int> sorted = order, identity(64);
  std::sort(sorted.begin(), sorted.end());
  std::iota(identity.begin(), identity.end(), 0);
  REQUIRE(sorted == identity);
  REQUIRE(order != identity);
}

// A random bf16 tile and its product in double, computed here without the emulator.
struct MmaCase {
  std::vector<uint16_t> a = std::vector<uint16_t>(256), b = std::vector<uint16_t>(128);
  std::vector<double> ref = std::vector<double>(128, 0.0);
  MmaCase() {
    std::vector<float> u = Tensor::uniform({384}, 11, 0, -2, 2).to_vector<float>();
    auto round = [](float v, uint16_t& bits) {
      bits = float_to_bf16(v).bits;
      return double(bf16_to_float(bf16{bits}));
    };
    std::vector<double> A(256), B(128);
    for (size_t k = 0; k < 256; ++k) A[k] = round(u[k], a[k]);
    for (size_t k = 0; k < 128; ++k) B[k] = round(u[256 + k], b[k]);
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 8; ++c)
        for (int k = 0; k < 16; ++k) ref[size_t(r * 8 + c)] += A[size_t(r * 16 + k)] * B[size_t(k * 8 + c)];
  }
  double max_error(const std::vector<float>& d) const {
    double e = 0;
    for (size_t k = 0; k < 128; ++k) e = std::max(e, std::fabs(double(d[k]) - ref[k]));
    return e;
  }
};

TEST_CASE("mma.sync m16n8k16 with the PTX fragment layout; a wrong fragment index is caught", "[sim]") {
  MmaCase m;
  std::vector<float> d(128, NAN);
  mma_tile(d.data(), m.a.data(), m.b.data(), false);
  REQUIRE(m.max_error(d) < 1e-4);  // bf16 products are exact in f32; 16 f32 additions of |x| < 64
  mma_tile(d.data(), m.a.data(), m.b.data(), true);
  REQUIRE(m.max_error(d) > 0.1);
}

TEST_CASE("barrier divergence and bad warp masks are reported, not hung", "[sim]") {
  std::vector<float> out(64);
  REQUIRE_THROWS_WITH(half_barrier(out.data(), 64),
                      Catch::Contains("barrier divergence in kernel half_barrier") && Catch::Contains("has exited"));
  REQUIRE_THROWS_WITH(split_barrier(out.data(), 64),
                      Catch::Contains("barrier divergence in kernel split_barrier") && Catch::Contains("sim_kernels.cu"));
  std::vector<int> ints(48);
  REQUIRE_THROWS_WITH(shuffle_missing_lane(ints.data(), 48), Catch::Contains("names lanes that do not exist"));
  // Lanes run in order: a lane that returned before the shuffle, and one that returns while the
  // lanes before it wait there.
  REQUIRE_THROWS_WITH(shuffle_after_exit(ints.data(), 48, 0),
                      Catch::Contains("thread (1,0,0): __shfl_xor_sync") && Catch::Contains("waits for lane 0, which has exited"));
  REQUIRE_THROWS_WITH(shuffle_after_exit(ints.data(), 48, 5),
                      Catch::Contains("thread (5,0,0) exited while lanes of its warp wait for it in __shfl_xor_sync"));
  // A later launch runs normally after an abandoned one.
  std::vector<float> rev(33);
  dynamic_shared_reverse(rev.data(), 33);
  REQUIRE(rev[0] == 32.0f);
}

TEST_CASE("launch configurations the hardware refuses are refused", "[sim]") {
  REQUIRE_THROWS_WITH(barrier_rounds(2048, 1), Catch::Contains("2048 threads per block exceed 1024"));
  // Grid y and z stop at 65,535 (checked before anything runs, so no output is needed).
  REQUIRE_THROWS_WITH(write_indices(nullptr, 1, 65536, 1, 1, 1, 1),
                      Catch::Contains("CUDA kernel write_indices: grid (1, 65536, 1) exceeds the device limits"));
  REQUIRE_THROWS_WITH(write_indices(nullptr, 1, 1, 70000, 1, 1, 1), Catch::Contains("grid (1, 1, 70000) exceeds"));
}
