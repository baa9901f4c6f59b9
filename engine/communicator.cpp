#include "engine/communicator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "engine/autograd.h"
#include "engine/device.h"
#include "core/error.h"
#include "engine/ops.h"

#ifdef COOPGEN_WITH_MPI
#include <mpi.h>
#endif
#ifdef COOPGEN_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include "kernels/cuda/check.h"
#endif

namespace coopgen::dist {

namespace {

struct World {
  bool started = false;
  bool mpi = false;  // launched by mpirun: collectives run, even for one rank
  int rank = 0, size = 1, local_rank = 0;
  double timeout_s = 600;
  std::atomic<int64_t> deadline_ms{0};  // 0: no collective in flight
  std::atomic<const char*> call{""};
#ifdef COOPGEN_WITH_NCCL
  ncclComm_t nccl = nullptr;
  cudaStream_t comm_stream = nullptr;  // gradient buckets' sums, beside the compute stream
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

#ifdef COOPGEN_WITH_MPI
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
// NCCL's overload of the one status check (kernels/cuda/check.h), beside the CUDA ones.
using coopgen::cuda_check;
template <class... What> void cuda_check(ncclResult_t status, const What&... what) {
  if (status != ncclSuccess) fail(what..., ": ", ncclGetErrorString(status));
}
// A CUDA or NCCL call of this rank: "rank N: call: the library's text".
template <class Status> void rank_check(Status status, const char* call) {
  cuda_check(status, "rank ", world().rank, ": ", call);
}

ncclComm_t nccl_comm() {
  World& w = world();
  if (!w.nccl) {  // rank 0 creates the id, MPI carries it to the others
    ncclUniqueId id;
    if (w.rank == 0) rank_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    {
      Collective c("MPI_Bcast (NCCL unique id)");
      mpi_check(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast (NCCL unique id)");
    }
    Collective c("ncclCommInitRank");
    rank_check(ncclCommInitRank(&w.nccl, w.size, id, w.rank), "ncclCommInitRank");
  }
  return w.nccl;
}

cudaStream_t comm_stream() {
  World& w = world();
  if (!w.comm_stream) rank_check(cudaStreamCreateWithFlags(&w.comm_stream, cudaStreamNonBlocking), "cudaStreamCreate");
  return w.comm_stream;
}
#endif

}  // namespace

void init(double timeout_s) {
  World& w = world();
  if (w.started) return;
  CG_CHECK(timeout_s > 0, "distributed.timeout_s (", timeout_s, ") must be positive");
  w.started = true;
  w.timeout_s = timeout_s;
  const int launched = env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 0));
#ifndef COOPGEN_WITH_MPI
  if (launched > 1)
    fail("launched by mpirun with ", launched, " ranks, but this coopgen was built without MPI (install libopenmpi-dev and rebuild)");
#else
  if (launched > 0) {
    w.mpi = true;
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
      if (world().mpi) MPI_Finalize();
    });
    std::thread(watchdog).detach();
  }
#endif
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
bool collectives_on() { return world().mpi; }
std::unique_ptr<GradientReducer> reducer_for(std::vector<Tensor> params, double bucket_mb) {
  CG_CHECK(bucket_mb > 0, "distributed.bucket_mb (", bucket_mb, ") must be positive");
  if (!collectives_on()) return nullptr;
  return std::make_unique<GradientReducer>(std::move(params), size_t(bucket_mb * 1e6));
}

void all_reduce_sum(std::vector<double>& values) {
  if (!world().mpi || values.empty()) return;
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
  if (!world().mpi) return values;
#ifdef COOPGEN_WITH_MPI
  return gather_all(values, MPI_DOUBLE);
#else
  return values;
#endif
}

std::vector<int32_t> all_gather(const std::vector<int32_t>& values) {
  if (!world().mpi) return values;
#ifdef COOPGEN_WITH_MPI
  return gather_all(values, MPI_INT32_T);
#else
  return values;
#endif
}

std::vector<size_t> shard(const std::vector<size_t>& rows, const char* what) {
  const size_t n = size_t(world().size), r = size_t(world().rank);
  if (rows.size() % n != 0) fail(what, " (", rows.size(), ") must be a multiple of the number of ranks (", n, ")");
  const size_t per = rows.size() / n;
  return {rows.begin() + long(r * per), rows.begin() + long((r + 1) * per)};
}

struct GradientReducer::Bucket {
  std::vector<size_t> params;  // indices into params_
  size_t floats = 0, reported = 0;
  bool started = false;
  Tensor buffer;  // the packed gradients, then their sum
#ifdef COOPGEN_WITH_MPI
  MPI_Request request = MPI_REQUEST_NULL;
  std::vector<float> host;  // a CUDA bucket's trip through MPI where there is no NCCL
#endif
#ifdef COOPGEN_WITH_NCCL
  cudaEvent_t event = nullptr;  // packed (compute stream), then summed (comm stream)
#endif
};

GradientReducer::GradientReducer(std::vector<Tensor> params, size_t bucket_bytes)
    : params_(std::move(params)), bucket_of_(params_.size()), reported_(params_.size(), false) {
  for (size_t k = params_.size(); k-- > 0;) {  // the last parameters' gradients are ready first
    const Tensor& p = params_[k];
    CG_CHECK(p.dtype() == DType::F32 && p.is_contiguous() && p.device() == params_[0].device(),
             "GradientReducer: ", describe(p), " (contiguous f32 parameters on one device)");
    const size_t n = size_t(p.numel());
    if (buckets_.empty() || (buckets_.back().floats + n) * sizeof(float) > bucket_bytes) buckets_.emplace_back();
    buckets_.back().params.push_back(k);
    buckets_.back().floats += n;
    bucket_of_[k] = buckets_.size() - 1;
    index_.emplace_back(&p.impl(), k);
  }
  std::sort(index_.begin(), index_.end());
  hook_ = add_leaf_ready_hook([this](const TensorImpl& leaf) { ready(leaf); });
}

GradientReducer::~GradientReducer() {
  remove_leaf_ready_hook(hook_);
#ifdef COOPGEN_WITH_NCCL
  for (Bucket& b : buckets_)
    if (b.event) cuda_check(std::nothrow, cudaEventDestroy(b.event), "gradient reducer: cudaEventDestroy");
#endif
}

void GradientReducer::ready(const TensorImpl& leaf) {
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(&leaf, size_t(0)));
  if (it == index_.end() || it->first != &leaf) return;  // another model's parameter
  const size_t k = it->second;
  if (reported_[k]) {  // a second backward pass this step: its sums are redone in finish()
    second_pass_ = true;
    return;
  }
  reported_[k] = true;
  Bucket& b = buckets_[bucket_of_[k]];
  if (++b.reported == b.params.size() && !second_pass_) start(b);
}

void GradientReducer::start(Bucket& b) {
  NoGradGuard no_grad;
  const Device device = params_[0].device();
  b.buffer = Tensor::zeros({int64_t(b.floats)}, DType::F32, device);  // zeros where no gradient
  int64_t at = 0;
  for (size_t k : b.params) {
    const Tensor& p = params_[k];
    if (p.grad().defined()) {
      Tensor dst = b.buffer.slice(0, at, at + p.numel());
      copy_(dst, p.grad().reshape({p.numel()}));
    }
    at += p.numel();
  }
  b.started = true;
  float* data = b.buffer.data<float>();
#ifdef COOPGEN_WITH_NCCL
  if (device == Device::CUDA) {  // the comm stream waits for the packing, then sums beside the backward pass
    if (!b.event) rank_check(cudaEventCreateWithFlags(&b.event, cudaEventDisableTiming), "cudaEventCreate");
    rank_check(cudaEventRecord(b.event, static_cast<cudaStream_t>(device::stream())), "cudaEventRecord");
    rank_check(cudaStreamWaitEvent(comm_stream(), b.event), "cudaStreamWaitEvent");
    rank_check(ncclAllReduce(data, data, b.floats, ncclFloat32, ncclSum, nccl_comm(), comm_stream()),
               "ncclAllReduce (gradient bucket)");
    rank_check(cudaEventRecord(b.event, comm_stream()), "cudaEventRecord");
    return;
  }
#endif
#ifdef COOPGEN_WITH_MPI
  if (device != Device::CPU) {  // no NCCL in this build: through the host
    b.host.resize(b.floats);
    device::copy(b.host.data(), Device::CPU, data, device, b.floats * sizeof(float));
    data = b.host.data();
  }
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, data, int(b.floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &b.request),
            "MPI_Iallreduce (gradient bucket)");
  for (Bucket& other : buckets_) {  // Open MPI moves nonblocking collectives along inside MPI calls
    int flag = 0;
    if (other.request != MPI_REQUEST_NULL) MPI_Test(&other.request, &flag, MPI_STATUS_IGNORE);
  }
#else
  (void)data;
#endif
}

void GradientReducer::finish() {
  for (Bucket& b : buckets_) {
    if (b.started && second_pass_) wait(b);  // summed too early: again, with the whole step's gradients
    if (!b.started) start(b);
  }
  for (Bucket& b : buckets_) {
    wait(b);
    int64_t at = 0;
    for (size_t k : b.params) {
      Tensor handle = params_[k];  // shares the parameter's storage and gradient slot
      handle.set_grad(b.buffer.slice(0, at, at + handle.numel()).reshape(handle.shape()).contiguous());
      at += handle.numel();
    }
    b.buffer = Tensor();
    b.reported = 0;
  }
  std::fill(reported_.begin(), reported_.end(), false);
  second_pass_ = false;
}

void GradientReducer::wait(Bucket& b) {
  if (!b.started) return;
  b.started = false;
#ifdef COOPGEN_WITH_NCCL
  if (b.buffer.device() == Device::CUDA) {
    Collective c("ncclAllReduce (gradient bucket)");
    rank_check(cudaEventSynchronize(b.event), "ncclAllReduce (gradient bucket)");
    return;
  }
#endif
#ifdef COOPGEN_WITH_MPI
  if (b.request == MPI_REQUEST_NULL) return;
  {
    Collective c("MPI_Wait (gradient bucket)");
    mpi_check(MPI_Wait(&b.request, MPI_STATUS_IGNORE), "MPI_Wait (gradient bucket)");
  }
  if (b.buffer.device() != Device::CPU)
    device::copy(b.buffer.data<float>(), b.buffer.device(), b.host.data(), Device::CPU, b.floats * sizeof(float));
#endif
}

void abort_job(const std::string& message) {
#ifdef COOPGEN_WITH_MPI
  if (world().mpi) {
    std::fprintf(stderr, "coopgen: error: rank %d: %s\n", world().rank, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
#else
  (void)message;
#endif
}

}  // namespace coopgen::dist
