// Data parallelism across the processes of a job started with mpirun (one process otherwise).
// Every rank runs the same program on its shard of the global batch; gradients, token counts and
// metrics are summed across ranks, so N ranks take the step one rank takes on the whole batch.
// Host buffers travel over MPI; CUDA tensors over NCCL (its unique id broadcast from rank 0 over
// MPI, each rank on the GPU of its local rank), or through the host in a build without NCCL.
// Faults end the whole job: an error on any rank aborts every rank with a message naming the rank
// (abort_job), and a collective that has not finished within the timeout (a rank died or hangs)
// ends this rank naming the call, after which mpirun ends the others.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace coopgen::dist {

// Starts MPI when launched by mpirun (OMPI_COMM_WORLD_SIZE / PMI_SIZE set), picks this rank's GPU,
// and starts the watchdog that ends this rank when one collective takes longer than timeout_s
// (distributed.timeout_s); a no-op alone. Call once, before any collective; a second call changes
// nothing.
void init(double timeout_s = 600);
bool mpi_compiled();   // can this build run several ranks (CPU tensors over MPI)?
bool nccl_compiled();  // ... and move CUDA tensors over NCCL?
int rank();
int size();
int local_rank();  // the rank among those on this node (its GPU index)
inline bool is_root() { return rank() == 0; }

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
// The reducer of `params`' gradients with buckets of at most bucket_mb MB (distributed.bucket_mb)
// when collectives run, else none: what an optimiser of a data-parallel job is given.
std::unique_ptr<GradientReducer> reducer_for(std::vector<Tensor> params, double bucket_mb);

// Ends every rank of the job after an error on this one (MPI_Abort); returns when alone.
void abort_job(const std::string& message);

}  // namespace coopgen::dist
