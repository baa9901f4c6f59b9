// Host entries of the emulator's own test kernels (tests/sim/sim_kernels.cu): small kernels that
// exercise one emulated feature each, and deliberately broken ones that the emulator, ASan or
// TSan must catch. Pointers are device pointers (host memory in the sim build).
#pragma once
#include <cstdint>

namespace coopgen::simtest {

// out[global linear id] = id encoded from blockIdx/threadIdx/blockDim/gridDim (3-D).
void write_indices(int* out, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz);
// One block of `threads`; out[t] = shuffle of v(lane) = 100·warp + lane by mode (0 idx, 1 xor,
// 2 up, 3 down) with argument `arg` and `width`; masks name the warp's existing lanes.
void shuffles(int* out, int threads, int mode, int arg, int width);
// One block of `threads`: out[t] = ballot(t%3==0), any(t==5), all(t<1000) of the thread's warp.
void votes(unsigned* out, int threads);
// `blocks`×`threads`: global and shared atomics; out = {global count, Σ shared counts, max, min}.
void atomics(int* out, float* fsum, int blocks, int threads);
// One block: cp.async copies `n` floats (n a multiple of 4) into shared memory, then out[t] =
// shared[n−1−t] after __syncwarp/__syncthreads; lock-free increments through atomicCAS.
void async_copy_reverse(float* out, const float* in, int n, int* cas_counter);
// One block: out[t] = value written by thread threads−1−t through dynamic shared memory.
void dynamic_shared_reverse(float* out, int threads);
// One block: reads a __shared__ float and int that nobody wrote.
void read_unwritten_shared(float* f, int* i);
// `blocks` blocks; order[k] = blockIdx.x of the k-th block to run.
void block_order(int* order, int* counter, int blocks);
// D[16×8] = A[16×16]·B[16×8] (row-major bf16 bits) through mma.sync; `wrong_fragment` loads A
// with a wrong fragment index (a deliberate bug).
void mma_tile(float* d, const uint16_t* a, const uint16_t* b, bool wrong_fragment);
// `threads` threads run `rounds` barriers (emulator switching cost).
void barrier_rounds(int threads, int rounds);

// Deliberately broken kernels.
void read_past_end(const float* in, float* out, int n);        // reads in[n]
void half_barrier(float* out, int threads);                      // __syncthreads in a branch half the block takes
void split_barrier(float* out, int threads);                     // two halves at two different barriers
void missing_barrier(float* out, int threads);                   // shared write, then another thread reads, no barrier
void shuffle_missing_lane(int* out, int threads);                // full mask in a partial warp
void shuffle_after_exit(int* out, int threads, int gone);        // lane `gone` of each warp returns, the rest shuffle

}  // namespace coopgen::simtest
