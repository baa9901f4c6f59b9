#include "engine/communicator.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/ops.h"

#ifdef COOPGEN_WITH_MPI
#include <mpi.h>
#endif
#ifdef COOPGEN_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif

namespace coopgen::dist {

namespace {

struct World {
  bool started = false;
  int rank = 0, size = 1, local_rank = 0;
  double timeout_s = 600;
  std::atomic<int64_t> deadline_ms{0};  // 0: no collective in flight
  std::atomic<const char*> call{""};
#ifdef COOPGEN_WITH_NCCL
  ncclComm_t nccl = nullptr;
#endif
};

World& world() {
  static World w;
  return w;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Marks one collective in flight for the watchdog.
class Collective {
 public:
  explicit Collective(const char* call) {
    World& w = world();
    w.call = call;
    w.deadline_ms = now_ms() + int64_t(w.timeout_s * 1000);
  }
  ~Collective() { world().deadline_ms = 0; }
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;
};

// A rank whose collective outlives the timeout ends itself; mpirun then ends the others.
void watchdog() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    World& w = world();
    const int64_t deadline = w.deadline_ms;
    if (deadline != 0 && now_ms() > deadline) {
      std::fprintf(stderr,
                   "coopgen: error: rank %d: %s did not finish within %g s (another rank failed or hangs; "
                   "distributed.timeout_s); ending the job\n",
                   w.rank, w.call.load(), w.timeout_s);
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
}

#ifdef COOPGEN_WITH_MPI
void mpi_check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  fail("rank ", world().rank, ": ", call, ": ", std::string(text, size_t(len)));
}

void mpi_sum(void* data, int count, MPI_Datatype type, const char* call) {
  Collective c(call);
  mpi_check(MPI_Allreduce(MPI_IN_PLACE, data, count, type, MPI_SUM, MPI_COMM_WORLD), call);
}
#endif

#ifdef COOPGEN_WITH_NCCL
void nccl_check(ncclResult_t r, const char* call) {
  if (r != ncclSuccess) fail("rank ", world().rank, ": ", call, ": ", ncclGetErrorString(r));
}

ncclComm_t nccl_comm() {
  World& w = world();
  if (!w.nccl) {  // rank 0 creates the id, MPI carries it to the others
    ncclUniqueId id;
    if (w.rank == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    {
      Collective c("MPI_Bcast (NCCL unique id)");
      mpi_check(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast (NCCL unique id)");
    }
    Collective c("ncclCommInitRank");
    nccl_check(ncclCommInitRank(&w.nccl, w.size, id, w.rank), "ncclCommInitRank");
  }
  return w.nccl;
}
#endif

// Sums `n` floats at `data` (on `device`) over ranks.
void sum_floats(float* data, size_t n, Device device) {
  if (world().size == 1 || n == 0) return;
#ifdef COOPGEN_WITH_NCCL
  if (device == Device::CUDA) {
    Collective c("ncclAllReduce");
    const auto stream = static_cast<cudaStream_t>(device::stream());
    nccl_check(ncclAllReduce(data, data, n, ncclFloat32, ncclSum, nccl_comm(), stream), "ncclAllReduce");
    if (cudaStreamSynchronize(stream) != cudaSuccess) fail("rank ", world().rank, ": ncclAllReduce: CUDA stream error");
    return;
  }
#endif
#ifdef COOPGEN_WITH_MPI
  std::vector<float> host;
  float* buf = data;
  if (device != Device::CPU) {  // no NCCL in this build: through the host
    host.resize(n);
    device::copy(host.data(), Device::CPU, data, device, n * sizeof(float));
    buf = host.data();
  }
  mpi_sum(buf, int(n), MPI_FLOAT, "MPI_Allreduce");
  if (device != Device::CPU) device::copy(data, device, host.data(), Device::CPU, n * sizeof(float));
#else
  (void)data, (void)device;
  fail("more than one rank, but this build has no MPI");
#endif
}

}  // namespace

void init() {
  World& w = world();
  if (w.started) return;
  w.started = true;
  const int launched = env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 1));
  if (launched > 1) {
#ifdef COOPGEN_WITH_MPI
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    MPI_Comm node;  // ranks sharing this node's memory: the local rank picks the GPU
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &w.local_rank);
    MPI_Comm_free(&node);
    std::atexit([] {
      if (world().size > 1) MPI_Finalize();
    });
    std::thread(watchdog).detach();
#else
    fail("launched by mpirun with ", launched, " ranks, but this coopgen was built without MPI (install libopenmpi-dev and rebuild)");
#endif
  }
  if (device::cuda_available()) device::select_gpu(w.local_rank);
}

bool mpi_compiled() {
#ifdef COOPGEN_WITH_MPI
  return true;
#else
  return false;
#endif
}
bool nccl_compiled() {
#ifdef COOPGEN_WITH_NCCL
  return true;
#else
  return false;
#endif
}

int rank() { return world().rank; }
int size() { return world().size; }
int local_rank() { return world().local_rank; }
void set_timeout(double seconds) {
  CG_CHECK(seconds > 0, "distributed.timeout_s (", seconds, ") must be positive");
  world().timeout_s = seconds;
}

void all_reduce_sum(std::vector<double>& values) {
  if (world().size == 1 || values.empty()) return;
#ifdef COOPGEN_WITH_MPI
  mpi_sum(values.data(), int(values.size()), MPI_DOUBLE, "MPI_Allreduce (metrics)");
#endif
}

double all_reduce_sum(double value) {
  std::vector<double> v{value};
  all_reduce_sum(v);
  return v[0];
}

namespace {

#ifdef COOPGEN_WITH_MPI
template <class T>
std::vector<T> gather_all(const std::vector<T>& values, MPI_Datatype type) {
  const int n = world().size;
  std::vector<int> counts(static_cast<size_t>(n)), offsets(static_cast<size_t>(n), 0);
  const int mine = int(values.size());
  {
    Collective c("MPI_Allgather (counts)");
    mpi_check(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  }
  for (int r = 1; r < n; ++r) offsets[size_t(r)] = offsets[size_t(r - 1)] + counts[size_t(r - 1)];
  std::vector<T> out(size_t(offsets.back() + counts.back()));
  Collective c("MPI_Allgatherv");
  mpi_check(MPI_Allgatherv(values.data(), mine, type, out.data(), counts.data(), offsets.data(), type, MPI_COMM_WORLD),
            "MPI_Allgatherv");
  return out;
}
#endif

}  // namespace

std::vector<double> all_gather(const std::vector<double>& values) {
  if (world().size == 1) return values;
#ifdef COOPGEN_WITH_MPI
  return gather_all(values, MPI_DOUBLE);
#else
  return values;
#endif
}

std::vector<int32_t> all_gather(const std::vector<int32_t>& values) {
  if (world().size == 1) return values;
#ifdef COOPGEN_WITH_MPI
  return gather_all(values, MPI_INT32_T);
#else
  return values;
#endif
}

void all_reduce_sum(Tensor& t) {
  CG_CHECK(t.dtype() == DType::F32 && t.is_contiguous(), "all_reduce_sum: ", describe(t), " (a contiguous f32 tensor)");
  sum_floats(t.data<float>(), size_t(t.numel()), t.device());
}

std::vector<size_t> shard(const std::vector<size_t>& rows, const char* what) {
  const size_t n = size_t(world().size), r = size_t(world().rank);
  if (rows.size() % n != 0) fail(what, " (", rows.size(), ") must be a multiple of the number of ranks (", n, ")");
  const size_t per = rows.size() / n;
  return {rows.begin() + long(r * per), rows.begin() + long((r + 1) * per)};
}

void all_reduce_gradients(const std::vector<Tensor>& params) {
  if (world().size == 1 || params.empty()) return;
  // One bucket: every gradient (zeros where this rank has none, so all ranks send the same
  // layout) packed into one buffer on the parameters' device, summed, unpacked.
  NoGradGuard no_grad;
  size_t total = 0;
  for (const Tensor& p : params) total += size_t(p.numel());
  Tensor bucket = Tensor::zeros({int64_t(total)}, DType::F32, params[0].device());
  size_t at = 0;
  for (const Tensor& p : params) {
    const int64_t n = p.numel();
    Tensor dst = bucket.slice(0, int64_t(at), int64_t(at) + n);
    if (p.grad().defined()) copy_(dst, p.grad().reshape({n}));
    at += size_t(n);
  }
  all_reduce_sum(bucket);
  at = 0;
  for (const Tensor& p : params) {
    const int64_t n = p.numel();
    Tensor g = bucket.slice(0, int64_t(at), int64_t(at) + n).reshape(p.shape()).contiguous();
    Tensor handle = p;  // shares p's storage and gradient slot
    handle.set_grad(g);
    at += size_t(n);
  }
}

void abort_job(const std::string& message) {
#ifdef COOPGEN_WITH_MPI
  if (world().size > 1) {
    std::fprintf(stderr, "coopgen: error: rank %d: %s\n", world().rank, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
#else
  (void)message;
#endif
}

}  // namespace coopgen::dist
