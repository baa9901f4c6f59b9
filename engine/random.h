// Host-side random numbers that are functions of their inputs alone (no generator state), so a
// resumed or re-sharded run draws what the uninterrupted one would have. Device streams (tokens,
// initialisation) use Philox (kernels/philox.h) through the ops; these serve the host: deriving
// independent seeds, and noise that must be the same every time the same thing is asked.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/philox.h"

namespace coopgen::random {

// The k-th uniform number in [0, 1) of the Philox stream (seed, offset): the numbers the device
// samplers draw (kernels/philox.h), for host code that must draw the same ones (tree search,
// beam search with sampled candidates, D's prefix cuts).
inline float philox_uniform(uint64_t seed, uint64_t offset, uint64_t k) { return philox::uniform(seed, offset, k); }

// The splitmix64 finaliser (Steele et al. 2014): a bijection of 64-bit words with full avalanche.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// An independent seed for (seed, index, purpose): e.g. the stream of one training step's draws.
inline uint64_t stream(uint64_t seed, int64_t index, uint64_t purpose) {
  return mix(seed * 0x9e3779b97f4a7c15ull + uint64_t(index) * 0xbf58476d1ce4e5b9ull + purpose * 0x94d049bb133111ebull);
}

// A uniform number in [0, 1) determined by the word h (53 random bits).
inline double uniform(uint64_t h) { return double(mix(h) >> 11) * 0x1.0p-53; }

// A hash of a token sequence, extendable one token at a time: extend(hash(s), v) = hash(s + v).
inline uint64_t extend(uint64_t h, int32_t token) { return mix(h ^ ((uint64_t(uint32_t(token)) + 1) * 0x9e3779b97f4a7c15ull)); }
inline uint64_t hash(uint64_t seed, const std::vector<int32_t>& seq) {
  uint64_t h = mix(seed + 0x632be59bd9b4e019ull);
  for (int32_t t : seq) h = extend(h, t);
  return h;
}

// A standard normal number determined by the word h (Box–Muller on two 53-bit uniforms of it).
inline double normal(uint64_t h) {
  const double u1 = (double(mix(h) >> 11) + 0.5) * 0x1.0p-53, u2 = double(mix(h ^ 0xd1b54a32d192ed03ull) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace coopgen::random
