// Data parallelism across the processes of a job started with mpirun (one process otherwise).
// Every rank runs the same program on its shard of the global batch; gradients, token counts and
// metrics are summed across ranks, so N ranks take the step one rank takes on the whole batch.
// Host buffers travel over MPI; CUDA tensors over NCCL (its unique id broadcast from rank 0 over
// MPI, each rank on the GPU of its local rank), or through the host in a build without NCCL.
// Faults end the whole job: an error on any rank aborts every rank with a message naming the rank
// (abort_job), and a collective that has not finished within the timeout (a rank died or hangs)
// ends this rank naming the call, after which mpirun ends the others.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace coopgen::dist {

// Starts MPI when launched by mpirun (OMPI_COMM_WORLD_SIZE / PMI_SIZE set), picks this rank's GPU,
// and starts the timeout watchdog; a no-op alone. Call once, first thing; safe to call again.
void init();
bool mpi_compiled();   // can this build run several ranks (CPU tensors over MPI)?
bool nccl_compiled();  // ... and move CUDA tensors over NCCL?
int rank();
int size();
int local_rank();  // the rank among those on this node (its GPU index)
inline bool is_root() { return rank() == 0; }
// The watchdog's limit for one collective (default 600 s; distributed.timeout_s).
void set_timeout(double seconds);

// Element-wise sums over ranks, in place (every rank gets the sum).
void all_reduce_sum(std::vector<double>& values);
double all_reduce_sum(double value);
// Every rank's `values`, concatenated in rank order (the lengths may differ).
std::vector<double> all_gather(const std::vector<double>& values);
std::vector<int32_t> all_gather(const std::vector<int32_t>& values);
// This rank's contiguous share of a global batch (`rows` split in size() equal parts, in order); a
// batch that does not split evenly is an error naming `what`.
std::vector<size_t> shard(const std::vector<size_t>& rows, const char* what);

// Sums the gradients of `params` over ranks while the backward pass runs, as DDP does. The
// parameters, last first (their gradients are ready first), are grouped into buckets of at most
// bucket_bytes (at least one parameter each). Autograd reports each parameter once no node left
// in the pass can add to its gradient (add_leaf_ready_hook); a bucket whose parameters are all
// reported is packed and its sum started: NCCL on a side stream for CUDA tensors, MPI_Iallreduce
// for host ones. finish() starts what is left (parameters no node reached), waits, and sets every
// gradient to its sum (zeros where no rank had one). One backward pass per step: a parameter
// reported again after its bucket started (a second pass) makes finish() sum that bucket again.
class GradientReducer {
 public:
  GradientReducer(std::vector<Tensor> params, size_t bucket_bytes);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  void finish();

 private:
  struct Bucket;
  void ready(const TensorImpl& leaf);
  void start(Bucket& b);
  void wait(Bucket& b);
  std::vector<Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // parameter index -> its bucket
  std::vector<bool> reported_;     // this step, by parameter index
  bool second_pass_ = false;
  std::vector<std::pair<const TensorImpl*, size_t>> index_;  // parameter -> its index, sorted
  int hook_ = 0;
};

// Do gradients travel between ranks? Under mpirun, even with one rank (`mpirun -np 1` runs the
// data-parallel path end to end, NCCL included, for checking it on a single GPU).
bool collectives_on();
// The gradient buckets' size limit (default 25 MB; distributed.bucket_mb).
void set_bucket_mb(double mb);
size_t bucket_bytes();

// Ends every rank of the job after an error on this one (MPI_Abort); returns when alone.
void abort_job(const std::string& message);

}  // namespace coopgen::dist
