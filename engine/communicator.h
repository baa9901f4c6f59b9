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
// A contiguous f32 tensor on any device.
void all_reduce_sum(Tensor& t);
// This rank's contiguous share of a global batch (`rows` split in size() equal parts, in order); a
// batch that does not split evenly is an error naming `what`.
std::vector<size_t> shard(const std::vector<size_t>& rows, const char* what);

// Sums the gradients of `params` over ranks in one bucket per device: one collective per step.
void all_reduce_gradients(const std::vector<Tensor>& params);

// Ends every rank of the job after an error on this one (MPI_Abort); returns when alone.
void abort_job(const std::string& message);

}  // namespace coopgen::dist
