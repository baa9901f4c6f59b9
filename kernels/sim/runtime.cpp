// The CUDA runtime and cuBLAS calls coopgen makes, for the sim build: device memory is host
// memory, copies and sets are memcpy/memset, streams and events are host objects (kernels run
// synchronously, so every stream is always idle), and cuBLAS matrix products go to the CPU
// BLAS. Stream capture records the stream's work for a graph to replay (kernels/sim/capture.h).
// Linked instead of libcudart and libcublas; the signatures come from the CUDA headers.
#include <cblas.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "kernels/sim/capture.h"
#include "kernels/sim/trace.h"

namespace {

using Work = std::vector<std::function<void()>>;
// The open capture (one stream: coopgen's compute stream), or none.
std::unique_ptr<Work> g_capture;
// Pinned host blocks (cudaMallocHost): a capture may copy to and from these, as on a GPU.
std::map<const char*, size_t> g_pinned;

bool pinned(const void* p, size_t count) {
  const char* c = static_cast<const char*>(p);
  auto it = g_pinned.upper_bound(c);
  if (it == g_pinned.begin()) return false;
  --it;
  return c + count <= it->first + it->second;
}

}  // namespace

namespace coopgen::sim {
void stream_work(std::function<void()> work) {
  if (g_capture) g_capture->push_back(std::move(work));
  else work();
}
}  // namespace coopgen::sim

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int) { return cudaSuccess; }
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
// The limits of the emulated device are the H100's (kernels/sim/emulator.cpp enforces them).
cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int) {
  switch (attr) {
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 227 * 1024; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 132; return cudaSuccess;
    default: return cudaErrorInvalidValue;
  }
}
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaPeekAtLastError(void) { return cudaSuccess; }
const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return "sim: CUDA error";
  }
}
// A wait for the device while a capture is open: refused, as on a GPU.
cudaError_t cudaDeviceSynchronize(void) { return g_capture ? cudaErrorStreamCaptureUnsupported : cudaSuccess; }

cudaError_t cudaMalloc(void** ptr, size_t size) {
  // Exact sizes: AddressSanitizer then catches a kernel that reads past the end. 256-byte aligned,
  // as the GPU's, so that the access trace counts 32-byte sectors as the GPU does.
  if (posix_memalign(ptr, 256, size ? size : 1) != 0) return cudaErrorMemoryAllocation;
  coopgen::sim::trace::allocated(*ptr, size);
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  coopgen::sim::trace::freed(ptr);
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** ptr, size_t size) {
  const cudaError_t err = cudaMalloc(ptr, size);
  if (err == cudaSuccess) g_pinned[static_cast<const char*>(*ptr)] = size;
  return err;
}
cudaError_t cudaFreeHost(void* ptr) {
  g_pinned.erase(static_cast<const char*>(ptr));
  return cudaFree(ptr);
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind) {
  if (g_capture) return cudaErrorStreamCaptureUnsupported;
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}
// Captured copies between the host and the device must name pinned host memory: a graph reads and
// writes it at each replay, long after pageable staging buffers are gone.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind, cudaStream_t) {
  if (!g_capture) return cudaMemcpy(dst, src, count, kind);
  if ((kind == cudaMemcpyHostToDevice && !pinned(src, count)) || (kind == cudaMemcpyDeviceToHost && !pinned(dst, count)))
    return cudaErrorStreamCaptureUnsupported;
  coopgen::sim::stream_work([=] {
    if (count) std::memmove(dst, src, count);
  });
  return cudaSuccess;
}
cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  if (g_capture) return cudaErrorStreamCaptureUnsupported;
  if (count) std::memset(ptr, value, count);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) {
  coopgen::sim::stream_work([=] {
    if (count) std::memset(ptr, value, count);
  });
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  static int token;
  *stream = reinterpret_cast<cudaStream_t>(&token);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaDeviceSynchronize(); }

// A graph is the work its capture recorded; an instantiated graph replays a copy of it.
cudaError_t cudaStreamBeginCapture(cudaStream_t, enum cudaStreamCaptureMode) {
  if (g_capture) return cudaErrorStreamCaptureUnsupported;
  g_capture = std::make_unique<Work>();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* graph) {
  if (!g_capture) return cudaErrorIllegalState;
  *graph = reinterpret_cast<cudaGraph_t>(g_capture.release());
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = reinterpret_cast<cudaGraphExec_t>(new Work(*reinterpret_cast<Work*>(graph)));
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
  if (g_capture) return cudaErrorStreamCaptureUnsupported;
  for (const auto& work : *reinterpret_cast<Work*>(exec)) work();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete reinterpret_cast<Work*>(exec);
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete reinterpret_cast<Work*>(graph);
  return cudaSuccess;
}

// Events record host time: kernels have finished when their launch returns.
struct SimEvent {
  std::chrono::steady_clock::time_point at;
};
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new SimEvent{});
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<SimEvent*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  reinterpret_cast<SimEvent*>(event)->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaDeviceSynchronize(); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  *ms = std::chrono::duration<float, std::milli>(reinterpret_cast<SimEvent*>(end)->at -
                                                 reinterpret_cast<SimEvent*>(start)->at).count();
  return cudaSuccess;
}

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  static int token;
  *handle = reinterpret_cast<cublasHandle_t>(&token);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
const char* cublasGetStatusString(cublasStatus_t status) {
  return status == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "sim: cuBLAS error";
}

}  // extern "C"

namespace {

// Column-major, as cuBLAS: C = α·op(A)·op(B) + β·C for each of `batch` strided matrices.
void sgemm_now(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, float alpha, const float* A,
               int lda, long long int strideA, const float* B, int ldb, long long int strideB, float beta, float* C,
               int ldc, long long int strideC, int batch) {
  for (int i = 0; i < batch; ++i)
    cblas_sgemm(CblasColMajor, transa == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                transb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, alpha, A + i * strideA, lda,
                B + i * strideB, ldb, beta, C + i * strideC, ldc);
}

// The bf16 modes of cublasGemmStridedBatchedEx (below): each operand as f32 values rounded to bf16.
void gemm_bf16_now(bool bf16_storage, bool c_bf16, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                   int k, float alpha, const void* A, int lda, long long int strideA, const void* B, int ldb,
                   long long int strideB, float beta, void* C, int ldc, long long int strideC, int batch) {
  // Each operand as f32 values rounded to bf16, over its column-major extent: ld × (columns).
  auto widened = [&](const void* x, long long int count) {
    std::vector<float> out(static_cast<size_t>(count));
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = bf16_storage ? coopgen::bf16_to_float(static_cast<const coopgen::bf16*>(x)[i])
                            : coopgen::bf16_to_float(coopgen::float_to_bf16(static_cast<const float*>(x)[i]));
    return out;
  };
  const long long int a_len = (long long int)(lda) * (transa == CUBLAS_OP_N ? k : m) + (batch - 1) * strideA;
  const long long int b_len = (long long int)(ldb) * (transb == CUBLAS_OP_N ? n : k) + (batch - 1) * strideB;
  const long long int c_len = (long long int)(ldc) * n + (batch - 1) * strideC;
  const std::vector<float> a16 = widened(A, a_len), b16 = widened(B, b_len);
  std::vector<float> c32;
  float* c = static_cast<float*>(C);
  if (c_bf16) {
    c32.resize(static_cast<size_t>(c_len));
    for (size_t i = 0; i < c32.size(); ++i) c32[i] = coopgen::bf16_to_float(static_cast<coopgen::bf16*>(C)[i]);
    c = c32.data();
  }
  sgemm_now(transa, transb, m, n, k, alpha, a16.data(), lda, strideA, b16.data(), ldb, strideB, beta, c, ldc, strideC,
            batch);
  for (size_t i = 0; i < c32.size(); ++i) static_cast<coopgen::bf16*>(C)[i] = coopgen::float_to_bf16(c32[i]);
}

}  // namespace

extern "C" {

// α and β are host scalars, read when the call is made (captured by value, as cuBLAS does).
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
                                         int n, int k, const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb, long long int strideB,
                                         const float* beta, float* C, int ldc, long long int strideC, int batch) {
  coopgen::sim::stream_work([=, alpha = *alpha, beta = *beta] {
    sgemm_now(transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch);
  });
  return CUBLAS_STATUS_SUCCESS;
}

// The same through cublasGemmStridedBatchedEx, in the modes coopgen uses: f32 storage with
// CUBLAS_COMPUTE_32F_FAST_16BF (the tensor cores see A and B rounded to bf16, nearest even, and
// accumulate in f32), and bf16 A and B with CUBLAS_COMPUTE_32F into a bf16 C (rounded once at
// the end) or an f32 C. Other types and compute modes are not emulated.
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long int strideA, const void* B, cudaDataType Btype, int ldb,
                                          long long int strideB, const void* beta, void* C, cudaDataType Ctype, int ldc,
                                          long long int strideC, int batch, cublasComputeType_t compute,
                                          cublasGemmAlgo_t) {
  const bool f32_fast = Atype == CUDA_R_32F && Btype == CUDA_R_32F && Ctype == CUDA_R_32F &&
                        compute == CUBLAS_COMPUTE_32F_FAST_16BF;
  const bool bf16_storage = Atype == CUDA_R_16BF && Btype == CUDA_R_16BF && compute == CUBLAS_COMPUTE_32F &&
                            (Ctype == CUDA_R_16BF || Ctype == CUDA_R_32F);
  if (!f32_fast && !bf16_storage) return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool c_bf16 = bf16_storage && Ctype == CUDA_R_16BF;
  coopgen::sim::stream_work([=, alpha = *static_cast<const float*>(alpha), beta = *static_cast<const float*>(beta)] {
    gemm_bf16_now(bf16_storage, c_bf16, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                  strideC, batch);
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
