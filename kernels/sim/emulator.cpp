// The CUDA execution emulator (see kernels/sim/sim.h for what it emulates and checks).
//
// Scheduling: a launch runs its blocks one after another, in an order shuffled by a seed
// (COOPGEN_SIM_SEED, default 1), on the calling OS thread. Each CUDA thread of the running block
// is a fiber with its own stack, switched by Boost.Context's fcontext: a few registers saved and
// restored in user space (ucontext's swapcontext also saves the signal mask, a system call per
// switch, which was 80% of an emulated kernel's time). The scheduler resumes every runnable fiber in turn;
// a fiber runs until it finishes, waits at __syncthreads, or waits in a warp primitive. When
// every unfinished thread waits at the same barrier, all are released; any other state with
// nobody runnable is a divergence or a deadlock and is reported with the kernel, block, thread
// and source line. Errors found inside a fiber are recorded and the launch is abandoned from
// the scheduler's own stack, where it throws coopgen::Error.
//
// Sanitizers: fiber switches are announced to AddressSanitizer (stack switching) and to
// ThreadSanitizer (one TSan fiber per CUDA thread, switched without synchronisation). In the
// racecheck build this file itself is compiled without TSan instrumentation (COOPGEN_TSAN
// enables the annotations): the scheduler's bookkeeping is not the kernel's memory traffic. Barriers
// and warp rendezvous are the only happens-before edges between threads of a block, so TSan
// reports two threads touching the same shared word between barriers, one of them writing —
// the racecheck of compute-sanitizer. Blocks are ordered after one another (their shared memory
// is the same section), so races between blocks are not reported.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/context/detail/fcontext.hpp>

#include "core/error.h"
#include "core/sanitizers.h"
#include "kernels/sim/capture.h"
#include "kernels/sim/sim.h"
#include "kernels/sim/trace.h"

#if defined(COOPGEN_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(COOPGEN_TSAN)
#include <sanitizer/tsan_interface.h>
extern "C" void __tsan_ignore_thread_begin(void);
extern "C" void __tsan_ignore_thread_end(void);
#endif

// Every __shared__ variable of the program lands in this section (see sim.h); the linker
// provides its bounds. The anchor guarantees the section exists.
extern "C" char __start_coopgen_shared[];
extern "C" char __stop_coopgen_shared[];
__attribute__((section("coopgen_shared"), used, aligned(128))) static char g_shared_anchor[16];

namespace coopgen::sim {

thread_local ThreadState* current = nullptr;

namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr size_t kMaxPayload = 64;
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kMaxDynamicShared = 227 * 1024;

enum class Wait { Runnable, Barrier, Warp, Done };

struct Collective {
  unsigned mask = 0, arrived = 0;
  const char* what = nullptr;
  Loc loc;
  size_t bytes = 0;
  alignas(16) unsigned char data[32 * kMaxPayload];
  char tsan_token = 0;
};

namespace ctx = boost::context::detail;

struct Fiber {
  ctx::fcontext_t ctx = nullptr;  // where the thread resumes
  char* stack = nullptr;  // kStackBytes, with a guard page below
  void* tsan_fiber = nullptr;
  void* asan_fake = nullptr;
  ThreadState state{};
  unsigned linear = 0;
  Wait wait = Wait::Runnable;
  bool started = false;
  bool abandoned = false;  // its stack holds frames a fault left behind (still poisoned for ASan)
  Loc wait_loc;
  const char* wait_what = nullptr;
};

struct DeleteAligned {
  void operator()(unsigned char* p) const { operator delete[](p, std::align_val_t(128)); }
};

struct Launch {
  const char* kernel = nullptr;
  dim3 grid, block;
  unsigned nthreads = 0;
  const std::function<void()>* body = nullptr;
  std::vector<Fiber>* fibers = nullptr;
  std::vector<std::vector<std::shared_ptr<Collective>>> pending;  // per warp
  std::vector<unsigned> exited;  // per warp: its lanes that have returned (a collective naming one fails)
  Fiber* running = nullptr;
  ctx::fcontext_t scheduler = nullptr;  // where the running thread's switch returns to
  void* scheduler_tsan = nullptr;
  void* scheduler_asan_fake = nullptr;
  const void* scheduler_stack = nullptr;
  size_t scheduler_stack_size = 0;
  // 128-byte aligned, as __shared__ arrays are (sim.h): banks count from its base.
  std::unique_ptr<unsigned char[], DeleteAligned> dynamic_shared;
  size_t dynamic_shared_bytes = 0;
  std::string error;
  bool unwinding = false;  // after a fault: suspended threads unwind their stacks and exit
  char barrier_token = 0, start_token = 0, end_token = 0;
};

// Thrown inside a fiber to unwind its stack after a fault (caught in fiber_entry).
struct Unwind {};

thread_local Launch* g_launch = nullptr;
std::mutex g_launch_mutex;  // one launch at a time: __shared__ variables are process-wide

// ---- sanitizer hooks -----------------------------------------------------------------------
void asan_start(void** fake, const void* bottom, size_t size) {
#if defined(COOPGEN_ASAN)
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
void asan_finish(void* fake, const void** bottom, size_t* size) {
#if defined(COOPGEN_ASAN)
  __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
void tsan_switch(void* fiber) {
#if defined(COOPGEN_TSAN)
  __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync);
#else
  (void)fiber;
#endif
}
void tsan_release(void* addr) {
#if defined(COOPGEN_TSAN)
  __tsan_release(addr);
#else
  (void)addr;
#endif
}
void tsan_acquire(void* addr) {
#if defined(COOPGEN_TSAN)
  __tsan_acquire(addr);
#else
  (void)addr;
#endif
}

// The emulator's own bookkeeping (fiber states, rendezvous records, error text) is touched by
// the scheduler and by every CUDA thread with no happens-before between them; it is not the
// kernel's memory traffic, so TSan is told to look away while emulator code runs.
struct Quiet {
  Quiet() {
#if defined(COOPGEN_TSAN)
    __tsan_ignore_thread_begin();
#endif
  }
  ~Quiet() {
#if defined(COOPGEN_TSAN)
    __tsan_ignore_thread_end();
#endif
  }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;
};

// ---- fiber pool ----------------------------------------------------------------------------
std::vector<Fiber>& fiber_pool(unsigned n) {
  static std::vector<Fiber> pool;
  while (pool.size() < n) {
    Fiber f;
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    void* mem = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fail("sim: cannot map a fiber stack");
    mprotect(mem, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting
    f.stack = static_cast<char*>(mem) + page;
#if defined(COOPGEN_TSAN)
    f.tsan_fiber = __tsan_create_fiber(0);
#endif
    pool.push_back(f);
  }
  return pool;
}

std::string coord(const uint3& v) {
  std::ostringstream os;
  os << '(' << v.x << ',' << v.y << ',' << v.z << ')';
  return os.str();
}
std::string coord(const dim3& v) { return coord(uint3{v.x, v.y, v.z}); }
std::string where(const Loc& loc) {
  std::ostringstream os;
  os << loc.file_name() << ':' << loc.line();
  return os.str();
}
std::string who(const Launch& L, const Fiber& f) {
  return std::string("kernel ") + L.kernel + " block " + coord(f.state.block_idx) + " thread " + coord(f.state.thread_idx);
}

// ---- switching -----------------------------------------------------------------------------
void to_scheduler(Fiber& f, bool dying) {
  Launch& L = *g_launch;
  asan_start(dying ? nullptr : &f.asan_fake, L.scheduler_stack, L.scheduler_stack_size);
  tsan_switch(L.scheduler_tsan);
  L.scheduler = ctx::jump_fcontext(L.scheduler, nullptr).fctx;
  asan_finish(f.asan_fake, nullptr, nullptr);
  if (L.unwinding) throw Unwind{};
}

// Records the first fault of the launch and unwinds the calling thread.
[[noreturn]] void abandon(const std::string& message) {
  Launch& L = *g_launch;
  if (L.error.empty()) L.error = message;
  throw Unwind{};
}

void check_exit(Launch& L, Fiber& f) {
  const unsigned warp = f.linear / 32, lane = f.linear % 32;
  for (auto& c : L.pending[warp])
    if (c->mask >> lane & 1u)
      abandon(who(L, f) + " exited while lanes of its warp wait for it in " + c->what + " at " + where(c->loc));
}

void fiber_entry(ctx::transfer_t from) {
  Launch& L = *g_launch;
  L.scheduler = from.fctx;
  Fiber& f = *L.running;
  asan_finish(nullptr, &L.scheduler_stack, &L.scheduler_stack_size);
  tsan_acquire(&L.start_token);
  try {
    (*L.body)();
    Quiet quiet;
    check_exit(L, f);
  } catch (const Unwind&) {
  } catch (const std::exception& e) {
    Quiet quiet;
    if (L.error.empty()) L.error = who(L, f) + ": exception in device code: " + e.what();
  }
  tsan_release(&L.end_token);
  f.wait = Wait::Done;
  L.exited[f.linear / 32] |= 1u << (f.linear % 32);
  to_scheduler(f, true);
}

void resume(Launch& L, Fiber& f) {
  f.started = true;
  L.running = &f;
  current = &f.state;
  asan_start(&L.scheduler_asan_fake, f.stack, kStackBytes);
  tsan_switch(f.tsan_fiber);
  f.ctx = ctx::jump_fcontext(f.ctx, nullptr).fctx;
  asan_finish(L.scheduler_asan_fake, nullptr, nullptr);
  current = nullptr;
}

// All unfinished threads wait: release a common barrier, or describe why none can go on.
std::string settle(Launch& L) {
  std::vector<Fiber>& fibers = *L.fibers;
  const Fiber* at_barrier = nullptr;
  const Fiber* exited = nullptr;
  const Fiber* in_warp = nullptr;
  for (unsigned t = 0; t < L.nthreads; ++t) {
    const Fiber& f = fibers[t];
    if (f.wait == Wait::Done) exited = exited ? exited : &f;
    if (f.wait == Wait::Warp) in_warp = in_warp ? in_warp : &f;
    if (f.wait != Wait::Barrier) continue;
    if (!at_barrier) {
      at_barrier = &f;
    } else if (f.wait_loc.line() != at_barrier->wait_loc.line() ||
               std::string_view(f.wait_loc.file_name()) != at_barrier->wait_loc.file_name()) {
      return "barrier divergence in " + who(L, *at_barrier) + " waits at __syncthreads " + where(at_barrier->wait_loc) +
             " while thread " + coord(f.state.thread_idx) + " waits at __syncthreads " + where(f.wait_loc);
    }
  }
  if (at_barrier && exited)
    return "barrier divergence in " + who(L, *at_barrier) + " waits at __syncthreads " + where(at_barrier->wait_loc) +
           " but thread " + coord(exited->state.thread_idx) + " has exited";
  if (at_barrier && in_warp)
    return "deadlock in " + who(L, *at_barrier) + " waits at __syncthreads " + where(at_barrier->wait_loc) +
           " while thread " + coord(in_warp->state.thread_idx) + " waits in " + in_warp->wait_what + " at " +
           where(in_warp->wait_loc);
  if (in_warp)
    return "deadlock in " + who(L, *in_warp) + " waits in " + in_warp->wait_what + " at " + where(in_warp->wait_loc) +
           " for lanes that never arrive";
  trace::close_requests();  // a barrier ends the warps' requests
  for (unsigned t = 0; t < L.nthreads; ++t) fibers[t].wait = Wait::Runnable;  // release the barrier
  return "";
}

// After a fault: resume every suspended thread so that it unwinds its stack and exits.
void unwind_block(Launch& L) {
  L.unwinding = true;
  for (unsigned t = 0; t < L.nthreads; ++t) {
    Fiber& f = (*L.fibers)[t];
    f.abandoned = true;
    if (f.started && f.wait != Wait::Done) resume(L, f);
  }
  L.unwinding = false;
}

void run_block(Launch& L, const uint3& block_idx) {
  std::vector<Fiber>& fibers = *L.fibers;
  const size_t shared_bytes = size_t(__stop_coopgen_shared - __start_coopgen_shared);
  std::memset(__start_coopgen_shared, 0xFF, shared_bytes);  // poison: NaN for floats, -1 for ints
  std::fill(L.dynamic_shared.get(), L.dynamic_shared.get() + L.dynamic_shared_bytes, 0xFF);
  trace::block_begin(__start_coopgen_shared, shared_bytes, L.dynamic_shared.get(), L.dynamic_shared_bytes);
  for (auto& p : L.pending) p.clear();
  std::fill(L.exited.begin(), L.exited.end(), 0u);
  for (unsigned t = 0; t < L.nthreads; ++t) {
    Fiber& f = fibers[t];
    f.linear = t;
    f.wait = Wait::Runnable;
    f.started = false;
    f.state.block_idx = block_idx;
    f.state.thread_idx = uint3{t % L.block.x, (t / L.block.x) % L.block.y, t / (L.block.x * L.block.y)};
    f.state.block_dim = L.block;
    f.state.grid_dim = L.grid;
#if defined(COOPGEN_ASAN)
    // Frames that returned left no poison, and a new frame writes its own; frames abandoned by a
    // fault did, anywhere on the stack (unpoisoning all of every stack per block was 10% of the time).
    if (f.abandoned) __asan_unpoison_memory_region(f.stack, kStackBytes);
#endif
    f.abandoned = false;
    f.ctx = ctx::make_fcontext(f.stack + kStackBytes, kStackBytes, fiber_entry);  // the stack grows down from its top
  }
  tsan_release(&L.start_token);
  struct EndOfBlock {  // the host sees what the block's threads did, on every exit path
    Launch& L;
    ~EndOfBlock() { tsan_acquire(&L.end_token); }
  } end_of_block{L};
  for (;;) {
    bool ran = false, unfinished = false;
    for (unsigned t = 0; t < L.nthreads; ++t) {
      if (fibers[t].wait == Wait::Runnable) {
        resume(L, fibers[t]);
        ran = true;
        if (!L.error.empty()) return unwind_block(L);
      }
      unfinished = unfinished || fibers[t].wait != Wait::Done;
    }
    if (!unfinished) break;
    if (ran) continue;  // collectives completed during the pass may have woken lanes
    std::string why = settle(L);
    if (!why.empty()) {
      L.error = why;
      return unwind_block(L);
    }
  }
  trace::close_requests();
}

void run_launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& body) {
  const unsigned nthreads = block.x * block.y * block.z;
  if (nthreads == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
    fail("sim: kernel ", kernel, ": empty launch (grid ", coord(grid), ", block ", coord(block), ")");
  if (nthreads > kMaxThreads) fail("sim: kernel ", kernel, ": ", nthreads, " threads per block exceed ", kMaxThreads);
  if (dynamic_shared_bytes > kMaxDynamicShared)
    fail("sim: kernel ", kernel, ": ", dynamic_shared_bytes, " bytes of dynamic shared memory exceed ", kMaxDynamicShared);
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  Quiet quiet;
  Launch L;
  L.kernel = kernel;
  L.grid = grid;
  L.block = block;
  L.nthreads = nthreads;
  L.body = &body;
  L.fibers = &fiber_pool(nthreads);
  L.pending.resize((nthreads + 31) / 32);
  L.exited.resize(L.pending.size());
  if (dynamic_shared_bytes) L.dynamic_shared.reset(new (std::align_val_t(128)) unsigned char[dynamic_shared_bytes]);
  L.dynamic_shared_bytes = dynamic_shared_bytes;
#if defined(COOPGEN_TSAN)
  L.scheduler_tsan = __tsan_get_current_fiber();
#endif
  // Blocks in a seeded random order: kernels must not depend on the order blocks run in.
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  std::vector<uint64_t> order(blocks);
  std::iota(order.begin(), order.end(), 0);
  static const uint64_t seed = [] {
    const char* s = std::getenv("COOPGEN_SIM_SEED");
    return s ? std::strtoull(s, nullptr, 10) : 1;
  }();
  std::mt19937_64 rng(seed ^ std::hash<std::string>{}(kernel));
  std::shuffle(order.begin(), order.end(), rng);
  Launch* previous = g_launch;
  g_launch = &L;
  trace::launch_begin(kernel, grid, block);
  for (uint64_t b : order) {
    const uint3 idx{unsigned(b % grid.x), unsigned((b / grid.x) % grid.y), unsigned(b / (uint64_t(grid.x) * grid.y))};
    run_block(L, idx);
    if (!L.error.empty()) break;
  }
  trace::launch_end();
  g_launch = previous;
  if (!L.error.empty()) fail("sim: ", L.error, " (COOPGEN_SIM_SEED=", seed, ")");
}

}  // namespace

void launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& body) {
  stream_work([=] { run_launch(kernel, grid, block, dynamic_shared_bytes, body); });
}

void syncthreads(const Loc& loc) {
  Quiet quiet;
  Launch& L = *g_launch;
  Fiber& f = *L.running;
  f.wait = Wait::Barrier;
  f.wait_loc = loc;
  tsan_release(&L.barrier_token);
  to_scheduler(f, false);
  tsan_acquire(&L.barrier_token);
}

unsigned warp_collective(unsigned mask, const char* what, const void* mine, size_t bytes, void* all, const Loc& loc) {
  Quiet quiet;
  Launch& L = *g_launch;
  Fiber& f = *L.running;
  const unsigned warp = f.linear / 32, lane = f.linear % 32;
  const unsigned lanes = std::min(32u, L.nthreads - warp * 32);
  const unsigned existing = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
  if (bytes > kMaxPayload) abandon(who(L, f) + ": " + what + " payload too large");
  if (!(mask >> lane & 1u))
    abandon(who(L, f) + ": " + what + " at " + where(loc) + " with a mask that does not name the calling lane");
  if (mask & ~existing) {
    std::ostringstream os;
    os << who(L, f) << ": " << what << " at " << where(loc) << " with mask 0x" << std::hex << mask << std::dec
       << " names lanes that do not exist (this warp has " << lanes << " threads)";
    abandon(os.str());
  }
  if (const unsigned gone = mask & L.exited[warp])
    abandon(who(L, f) + ": " + what + " at " + where(loc) + " waits for lane " + std::to_string(std::countr_zero(gone)) +
            ", which has exited");
  std::shared_ptr<Collective> c;
  for (auto& p : L.pending[warp])
    if (p->mask == mask && !(p->arrived >> lane & 1u)) {
      c = p;
      break;
    }
  if (!c) {
    c = std::make_shared<Collective>();
    c->mask = mask;
    c->what = what;
    c->loc = loc;
    c->bytes = bytes;
    L.pending[warp].push_back(c);
  } else if (c->bytes != bytes || std::string_view(c->what) != what) {
    abandon(who(L, f) + ": lanes of one warp meet in different primitives: " + what + " at " + where(loc) +
                   " and " + c->what + " at " + where(c->loc));
  }
  std::memcpy(c->data + lane * bytes, mine, bytes);
  c->arrived |= 1u << lane;
  tsan_release(&c->tsan_token);
  if (c->arrived == mask) {
    auto& p = L.pending[warp];
    p.erase(std::find(p.begin(), p.end(), c));
    for (unsigned l = 0; l < 32; ++l)
      if ((mask >> l & 1u) && l != lane) (*L.fibers)[warp * 32 + l].wait = Wait::Runnable;
  } else {
    f.wait = Wait::Warp;
    f.wait_loc = loc;
    f.wait_what = what;
    std::shared_ptr<Collective> keep = c;  // stays alive while this lane sleeps
    to_scheduler(f, false);
  }
  tsan_acquire(&c->tsan_token);
  std::memcpy(all, c->data, 32 * bytes);
  return lane;
}

void* dynamic_shared() {
  Quiet quiet;
  Launch& L = *g_launch;
  if (!L.dynamic_shared) abandon(who(L, *L.running) + ": dynamic shared memory used but none was launched");
  return L.dynamic_shared.get();
}

void device_error(const char* what, const Loc& loc) {
  Quiet quiet;
  Launch& L = *g_launch;
  abandon(who(L, *L.running) + ": " + what + " at " + where(loc));
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 with the PTX ISA fragment layout:
// groupID g = lane/4, t = lane%4;
//   A (16×16, 4 regs of 2 bf16, low half first): a_i at row g + 8·((i/2)%2), col 2t + i%2 + 8·(i/4)
//   B (16×8, 2 regs):                            b_i at row 2t + i%2 + 8·(i/2), col g
//   C, D (16×8 f32):                              c_i at row g + 8·(i/2),        col 2t + i%2
void mma_m16n8k16_bf16(float* d, const uint32_t* a, const uint32_t* b, const float* c, const Loc& loc) {
  struct Fragments {
    uint32_t a[4], b[2];
    float c[4];
  };
  Fragments mine, all[32];
  std::memcpy(mine.a, a, sizeof mine.a);
  std::memcpy(mine.b, b, sizeof mine.b);
  std::memcpy(mine.c, c, sizeof mine.c);
  const unsigned lane = warp_collective(0xffffffffu, "mma.sync.m16n8k16", &mine, sizeof mine, all, loc);
  auto bf16 = [](uint32_t reg, int half) { return __uint_as_float((reg >> (16 * half) & 0xffffu) << 16); };
  float A[16][16], B[16][8], C[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const unsigned g = l / 4, t = l % 4;
    for (unsigned i = 0; i < 8; ++i) A[g + 8 * ((i / 2) % 2)][2 * t + i % 2 + 8 * (i / 4)] = bf16(all[l].a[i / 2], int(i % 2));
    for (unsigned i = 0; i < 4; ++i) B[2 * t + i % 2 + 8 * (i / 2)][g] = bf16(all[l].b[i / 2], int(i % 2));
    for (unsigned i = 0; i < 4; ++i) C[g + 8 * (i / 2)][2 * t + i % 2] = all[l].c[i];
  }
  const unsigned g = lane / 4, t = lane % 4;
  for (unsigned i = 0; i < 4; ++i) {
    const unsigned row = g + 8 * (i / 2), col = 2 * t + i % 2;
    float acc = C[row][col];
    for (unsigned k = 0; k < 16; ++k) acc += A[row][k] * B[k][col];
    d[i] = acc;
  }
}

void ldmatrix_x4(uint32_t* r, const void* row, bool trans, const Loc& loc) {
  trace::access(row, 16, false, reinterpret_cast<uintptr_t>(__builtin_return_address(0)));  // one phase per matrix
  const void* all[32];
  const char* what = trans ? "ldmatrix.x4.trans" : "ldmatrix.x4";
  const unsigned lane = warp_collective(0xffffffffu, what, &row, sizeof row, all, loc);
  for (unsigned l = 0; l < 32; ++l)
    if (reinterpret_cast<uintptr_t>(all[l]) % 16 != 0) device_error("ldmatrix: a row address that is not 16-byte aligned", loc);
  // Matrix m's row i is the 8 b16 values at all[8m + i]; lane (g, t) = (lane / 4, lane % 4) gets
  // elements (g, 2t) and (g, 2t + 1) of each matrix, or with .trans (2t, g) and (2t + 1, g).
  const unsigned g = lane / 4, t = lane % 4;
  auto elem = [&](unsigned m, unsigned i, unsigned j) {
    uint16_t v;
    std::memcpy(&v, static_cast<const char*>(all[8 * m + i]) + 2 * j, 2);
    return uint32_t(v);
  };
  for (unsigned m = 0; m < 4; ++m)
    r[m] = trans ? elem(m, 2 * t, g) | elem(m, 2 * t + 1, g) << 16 : elem(m, g, 2 * t) | elem(m, g, 2 * t + 1) << 16;
}

void cp_async_16(void* shared_dst, const void* global_src, const Loc& loc) {
  if (reinterpret_cast<uintptr_t>(shared_dst) % 16 || reinterpret_cast<uintptr_t>(global_src) % 16)
    device_error("cp.async: an address that is not 16-byte aligned", loc);
  const auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  trace::access(global_src, 16, false, pc);
  trace::access(shared_dst, 16, true, pc);
}

}  // namespace coopgen::sim
