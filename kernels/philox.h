// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator cuRAND also uses. Stateless: the k-th uniform of stream (seed, offset)
// is word k%4 of philox(counter = offset + k/4, key = seed), so a CPU loop and a CUDA grid that
// evaluate the same k get the same number, whatever the launch shape. Shared by both backends.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define COOPGEN_HD __host__ __device__ __forceinline__
#else
#define COOPGEN_HD inline
#endif

namespace coopgen::philox {

struct U4 {
  uint32_t v[4];
};

COOPGEN_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(p >> 32);
  return uint32_t(p);
}

// Ten rounds with the Weyl key schedule; constants from the paper.
COOPGEN_HD U4 philox4x32_10(U4 ctr, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, ctr.v[0], &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, ctr.v[2], &hi1);
    ctr = U4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return ctr;
}

// The 32-bit word k of stream (seed, offset).
COOPGEN_HD uint32_t word(uint64_t seed, uint64_t offset, uint64_t k) {
  uint64_t c = offset + k / 4;
  U4 out = philox4x32_10(U4{{uint32_t(c), uint32_t(c >> 32), 0u, 0u}}, uint32_t(seed),
                         uint32_t(seed >> 32));
  const uint64_t w = k % 4;  // selected, not indexed: a run-time index would put `out` in local memory on the GPU
  return w == 0 ? out.v[0] : w == 1 ? out.v[1] : w == 2 ? out.v[2] : out.v[3];
}

// A 64-bit value of a stream held in memory as 32-bit words (engine philox_words: seed, offset):
// word k is its low half, word k + 1 its high half.
COOPGEN_HD uint64_t memory_word(const int32_t* words, int k) {
  return uint64_t(uint32_t(words[k])) | uint64_t(uint32_t(words[k + 1])) << 32;
}

// Uniform in [0, 1) with 24 random bits: exact in float, identical on every backend.
COOPGEN_HD float uniform(uint64_t seed, uint64_t offset, uint64_t k) {
  return float(word(seed, offset, k) >> 8) * (1.0f / 16777216.0f);
}

// Element k of the PhiloxUniform op: lo + (hi − lo)·u, or, with dropout ∈ (0, 1), a dropout mask
// entry: 0 when u < dropout, else 1/(1 − dropout) (inverted dropout: E[mask] = 1).
COOPGEN_HD double philox_value(uint64_t seed, uint64_t offset, uint64_t k, double lo, double hi, double dropout) {
  const double u = double(uniform(seed, offset, k));
  return dropout > 0 ? (u < dropout ? 0.0 : 1.0 / (1.0 - dropout)) : lo + (hi - lo) * u;
}

// Standard Gumbel noise G = −log(−log(u + 2^−25)) of a uniform u ∈ [0, 1 − 2^−24], computed in
// double (in f32, u + 2^−25 rounds to 1 at the top uniform and G would be +∞) and rounded to f32:
// G ∈ [−2.85, 16.6], and the CPU and the GPU agree. argmax_v z_v + G_v is a draw from softmax(z)
// (Gumbel-max).
COOPGEN_HD float gumbel_of(float u) { return float(-log(-log(double(u) + 0x1.0p-25))); }
// The Gumbel noise of uniform k of stream (seed, offset).
COOPGEN_HD float gumbel(uint64_t seed, uint64_t offset, uint64_t k) { return gumbel_of(uniform(seed, offset, k)); }

}  // namespace coopgen::philox
