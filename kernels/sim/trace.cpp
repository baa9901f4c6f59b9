// The emulator's access trace (see trace.h for the model). Recording runs on the OS thread of
// the launch (one launch at a time, emulator.cpp), so the state below needs no lock while a
// launch runs; the allocation registry is also written by host threads and has a mutex.
#include "kernels/sim/trace.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "kernels/sim/sim.h"

namespace coopgen::sim::trace {
namespace {

constexpr unsigned kMaxThreads = 1024;
constexpr uintptr_t kSplitDistance = 96;  // code bytes between the field accesses of one split copy

// A warp-level request in the making: each lane's address and size (0: the lane is absent).
struct Request {
  uintptr_t pc = 0;
  bool shared = false, store = false;
  uintptr_t addr[32] = {};
  unsigned size[32] = {};
};

// A warp-level request: its site, warp, per-lane visit count and direction.
struct RequestKey {
  uintptr_t pc;
  unsigned warp;
  uint32_t visit;
  bool store;
  bool operator==(const RequestKey&) const = default;
};
struct RequestKeyHash {
  size_t operator()(const RequestKey& k) const {
    return std::hash<uint64_t>{}(uint64_t(k.pc) * 0x9E3779B97F4A7C15ull ^ (uint64_t(k.visit) << 12 | k.warp << 1 | k.store));
  }
};

// A lane's latest load or store, which the next field access of a split copy may extend.
struct Latest {
  Request* request = nullptr;
  uintptr_t pc = 0;
};

// Recording or not: read before anything else by every traced load and store of every kernel.
bool g_on = false;

struct State {
  std::vector<Launch> launches;
  // The launch being recorded.
  Launch launch;
  std::unordered_map<uint64_t, Site> sites;  // by pc·4 + shared·2 + store
  std::unordered_set<uint64_t> load_sectors, store_sectors;
  // The block being run.
  uintptr_t shared_lo = 0, shared_hi = 0, dynamic_lo = 0, dynamic_hi = 0;
  std::unordered_map<uint64_t, uint32_t> visits;  // by pc·1024 + thread: visits so far
  std::unordered_map<RequestKey, Request, RequestKeyHash> requests;
  Latest latest[kMaxThreads][2];  // [thread][store]
  // Allocations of the emulated cudaMalloc: start → bytes, and their copy for the running launch
  // (no kernel allocates), searched without the lock.
  std::mutex allocations_mutex;
  std::map<uintptr_t, size_t> allocations;
  std::vector<std::pair<uintptr_t, size_t>> launch_allocations;
};
// Never destroyed: the caching allocator frees its blocks (cudaFree → freed) at exit.
State& state() {
  static State* s = new State;
  return *s;
}

bool global_address(const State& s, uintptr_t a) {
  const auto& all = s.launch_allocations;
  auto it = std::upper_bound(all.begin(), all.end(), std::pair<uintptr_t, size_t>{a, SIZE_MAX});
  if (it == all.begin()) return false;
  --it;
  return a < it->first + it->second;
}

unsigned linear_thread(const ThreadState& t) {
  return t.thread_idx.x + t.block_dim.x * (t.thread_idx.y + t.block_dim.y * t.thread_idx.z);
}

void record(uintptr_t addr, unsigned bytes, bool store, uintptr_t pc) {
  if (!g_on || !current) return;
  State& s = state();
  const bool shared = (addr >= s.shared_lo && addr < s.shared_hi) || (addr >= s.dynamic_lo && addr < s.dynamic_hi);
  if (!shared && !global_address(s, addr)) return;  // local: the fiber's stack, the arguments
  const unsigned thread = linear_thread(*current), lane = thread % 32;
  Latest& latest = s.latest[thread][store];
  if (Request* r = latest.request) {  // the next field of a struct copy clang split up?
    const uintptr_t start = r->addr[lane], len = r->size[lane] + bytes;
    if (r->shared == shared && pc > latest.pc && pc - latest.pc < kSplitDistance && addr == start + r->size[lane] &&
        len <= 16 && start % std::bit_ceil(len) == 0) {
      r->size[lane] = unsigned(len);
      latest.pc = pc;
      return;
    }
  }
  const uint32_t visit = s.visits[uint64_t(pc) * kMaxThreads + thread]++;
  Request& r = s.requests[{pc, thread / 32, visit, store}];
  r.pc = pc;
  r.shared = shared;
  r.store = store;
  r.addr[lane] = addr;
  r.size[lane] = bytes;
  latest = {&r, pc};
}

// Sizes of distinct bytes and the set of distinct units (of `unit` bytes) of the lanes' ranges.
template <class Set> uint64_t distinct(const Request& r, unsigned first, unsigned count, uintptr_t unit, Set& units) {
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (unsigned l = first; l < first + count; ++l)
    if (r.size[l]) ranges.push_back({r.addr[l], r.addr[l] + r.size[l]});
  std::sort(ranges.begin(), ranges.end());
  uint64_t bytes = 0;
  uintptr_t covered = 0;
  for (auto [lo, hi] : ranges) {
    lo = std::max(lo, covered);
    if (hi > lo) bytes += hi - lo;
    covered = std::max(covered, hi);
    for (uintptr_t u = lo / unit; lo < hi && u <= (hi - 1) / unit; ++u) units.insert(u);
  }
  return bytes;
}

void close_request(State& s, const Request& r) {
  Site& site = s.sites[uint64_t(r.pc) * 4 + r.shared * 2 + r.store];
  site.pc = r.pc;
  site.shared = r.shared;
  site.store = r.store;
  ++site.requests;
  unsigned widest = 0;
  for (unsigned l = 0; l < 32; ++l) {
    site.lanes += r.size[l] != 0;
    widest = std::max(widest, r.size[l]);
  }
  if (!r.shared) {
    std::unordered_set<uintptr_t> sectors;
    const uint64_t bytes = distinct(r, 0, 32, 32, sectors);
    site.bytes += bytes;
    site.sectors += sectors.size();
    site.min_sectors += (bytes + 31) / 32;
    auto& all = r.store ? s.store_sectors : s.load_sectors;
    all.insert(sectors.begin(), sectors.end());
    return;
  }
  // Shared: phases of 32 / 16 / 8 lanes for accesses of up to 4 / 8 / 16 bytes.
  const unsigned lanes_per_phase = widest <= 4 ? 32 : widest <= 8 ? 16 : 8;
  uint64_t wavefronts = 0, ideal = 0;
  for (unsigned first = 0; first < 32; first += lanes_per_phase) {
    std::unordered_set<uintptr_t> words;
    site.bytes += distinct(r, first, lanes_per_phase, 4, words);
    if (words.empty()) continue;
    unsigned per_bank[32] = {};
    for (uintptr_t w : words) ++per_bank[w % 32];
    wavefronts += *std::max_element(per_bank, per_bank + 32);
    ideal += (words.size() + 31) / 32;
  }
  site.wavefronts += wavefronts;
  site.ideal_wavefronts += ideal;
  site.max_ways = std::max(site.max_ways, uint32_t((wavefronts + ideal - 1) / ideal));
}

}  // namespace

bool available() {
#if defined(COOPGEN_SIM_TRACE)
  return true;
#else
  return false;
#endif
}

void start() {
  if (!available()) fail("sim trace: this build does not trace (configure with -DCOOPGEN_SIM_TRACE=ON and clang)");
  State& s = state();
  s.launches.clear();
  g_on = true;
}

std::vector<Launch> stop() {
  State& s = state();
  g_on = false;
  return std::move(s.launches);
}

void allocated(const void* p, size_t bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.allocations_mutex);
  s.allocations[reinterpret_cast<uintptr_t>(p)] = bytes;
}
void freed(const void* p) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.allocations_mutex);
  s.allocations.erase(reinterpret_cast<uintptr_t>(p));
}

void launch_begin(const char* kernel, dim3 grid, dim3 block) {
  State& s = state();
  if (!g_on) return;
  s.launch = Launch{kernel, grid, block, {}, 0, 0};
  {
    std::lock_guard<std::mutex> lock(s.allocations_mutex);
    s.launch_allocations.assign(s.allocations.begin(), s.allocations.end());
  }
  s.sites.clear();
  s.load_sectors.clear();
  s.store_sectors.clear();
}

void block_begin(const void* shared, size_t shared_bytes, const void* dynamic, size_t dynamic_bytes) {
  State& s = state();
  if (!g_on) return;
  s.shared_lo = reinterpret_cast<uintptr_t>(shared);
  s.shared_hi = s.shared_lo + shared_bytes;
  s.dynamic_lo = reinterpret_cast<uintptr_t>(dynamic);
  s.dynamic_hi = s.dynamic_lo + dynamic_bytes;
  s.visits.clear();
}

void close_requests() {
  State& s = state();
  if (!g_on) return;
  for (const auto& [key, r] : s.requests) close_request(s, r);
  s.requests.clear();
  for (auto& per_thread : s.latest) per_thread[0] = per_thread[1] = Latest{};
}

void launch_end() {
  State& s = state();
  if (!g_on) return;
  for (const auto& [key, site] : s.sites) s.launch.sites.push_back(site);
  std::sort(s.launch.sites.begin(), s.launch.sites.end(), [](const Site& a, const Site& b) {
    return std::tie(a.pc, a.shared, a.store) < std::tie(b.pc, b.shared, b.store);
  });
  s.launch.unique_load_sectors = s.load_sectors.size();
  s.launch.unique_store_sectors = s.store_sectors.size();
  s.launches.push_back(std::move(s.launch));
}

void access(const void* addr, unsigned bytes, bool store, uintptr_t pc) {
  record(reinterpret_cast<uintptr_t>(addr), bytes, store, pc);
}

std::vector<std::string> source_lines(const std::vector<uintptr_t>& pcs) {
  std::vector<std::string> out(pcs.size(), "?");
  // Group by object file: llvm-symbolizer wants addresses relative to the file's load base.
  std::map<std::string, std::vector<size_t>> by_file;
  std::map<std::string, uintptr_t> bases;
  for (size_t i = 0; i < pcs.size(); ++i) {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(pcs[i]), &info) || !info.dli_fname) continue;
    std::string file = info.dli_fname;
    if (file.empty() || file.find('/') == std::string::npos) {
      char self[4096];
      const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
      if (n <= 0) continue;
      file.assign(self, size_t(n));
    }
    by_file[file].push_back(i);
    bases[file] = reinterpret_cast<uintptr_t>(info.dli_fbase);
  }
  const std::string root = COOPGEN_SOURCE_DIR "/";
  for (const auto& [file, idx] : by_file) {
    char in_path[] = "/tmp/coopgen_trace_XXXXXX";
    const int fd = mkstemp(in_path);
    if (fd < 0) continue;
    close(fd);
    {
      std::ofstream in(in_path);
      for (size_t i : idx) in << "0x" << std::hex << (pcs[i] - 1 - bases[file]) << '\n';  // the call, not the next
    }
    const std::string cmd = "llvm-symbolizer --inlining --functions=none --obj='" + file + "' < " + in_path;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) continue;
    size_t k = 0;
    bool chosen = false;
    char line[4096];
    while (k < idx.size() && fgets(line, sizeof line, p)) {
      std::string frame(line);
      while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.pop_back();
      if (frame.empty()) {  // end of this address's frames
        ++k;
        chosen = false;
        continue;
      }
      const std::string path = frame.substr(0, frame.find(':'));
      const bool helper = path.find("kernels/sim/") != std::string::npos ||
                          path.find("ptx.cuh") != std::string::npos || path.rfind("/usr/", 0) == 0;
      if (chosen || helper) continue;
      std::string where = frame.substr(0, frame.rfind(':'));  // drop the column
      if (where.rfind(root, 0) == 0) where = where.substr(root.size());
      out[idx[k]] = where;
      chosen = true;
    }
    pclose(p);
    unlink(in_path);
  }
  return out;
}

}  // namespace coopgen::sim::trace

// ---- SanitizerCoverage callbacks (COOPGEN_SIM_TRACE builds instrument the .cu files) ----------
#define COOPGEN_TRACE_CALLBACKS(bytes)                                                                        \
  extern "C" void __sanitizer_cov_load##bytes(const void* addr) {                                            \
    coopgen::sim::trace::access(addr, bytes, false, reinterpret_cast<uintptr_t>(__builtin_return_address(0))); \
  }                                                                                                           \
  extern "C" void __sanitizer_cov_store##bytes(const void* addr) {                                           \
    coopgen::sim::trace::access(addr, bytes, true, reinterpret_cast<uintptr_t>(__builtin_return_address(0)));  \
  }
COOPGEN_TRACE_CALLBACKS(1)
COOPGEN_TRACE_CALLBACKS(2)
COOPGEN_TRACE_CALLBACKS(4)
COOPGEN_TRACE_CALLBACKS(8)
COOPGEN_TRACE_CALLBACKS(16)
