// Inline-PTX wrappers, each with the path the emulator runs (kernels/sim). Kernels use these
// instead of writing asm themselves, so every PTX instruction coopgen uses has exactly one
// emulated twin. Hopper-only instructions (wgmma, TMA) will also come here, behind
// COOPGEN_SIM with a portable fallback the emulator can run.
#pragma once
#include <cstdint>
#include <cstring>

namespace coopgen::cuda {

// D = A·B + C on one 16×8×16 tile: bf16 operands, f32 accumulators, one warp-wide mma.sync
// (sm_80+). Fragments follow the PTX ISA layout; with g = lane/4, t = lane%4:
//   a[r] holds A elements i = 2r, 2r+1 (low half first) at row g + 8·(r%2), col 2t + i%2 + 8·(r/2)
//   b[r] holds B elements i = 2r, 2r+1 at row 2t + i%2 + 8·r, col g
//   c[i], d[i] at row g + 8·(i/2), col 2t + i%2
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                  const float (&c)[4]) {
#ifdef COOPGEN_SIM
  sim::mma_m16n8k16_bf16(d, a, b, c, sim::Loc::current());
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
#endif
}

// ldmatrix x4: four 8×8 b16 matrices from shared memory into the mma fragment layout, one
// instruction for what would be four 32-bit loads per lane. Lane l passes the address of row
// l % 8 of matrix l / 8 (16-byte aligned); r[m] gets elements (g, 2t), (g, 2t + 1) of matrix m,
// g = lane / 4, t = lane % 4 — with `.trans` elements (2t, g), (2t + 1, g): a B operand read from
// a row-major tile of its transpose (V for P·V) without a transposed copy.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
#ifdef COOPGEN_SIM
  sim::ldmatrix_x4(r, row, false, sim::Loc::current());
#else
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#endif
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
#ifdef COOPGEN_SIM
  sim::ldmatrix_x4(r, row, true, sim::Loc::current());
#else
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
#endif
}

// cp.async: a 16-byte global → shared copy that completes at cp_async_wait_all(). The emulator
// copies at once (a legal schedule of the asynchronous copy).
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src) {
#ifdef COOPGEN_SIM
  sim::cp_async_16(shared_dst, global_src, sim::Loc::current());
  std::memcpy(shared_dst, global_src, 16);  // here, in the kernel's code, where racecheck (TSan) sees it
#else
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(shared_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(global_src));
#endif
}
__device__ __forceinline__ void cp_async_wait_all() {
#ifndef COOPGEN_SIM
  asm volatile("cp.async.wait_all;\n" ::);
#endif
}

}  // namespace coopgen::cuda
