// The CUDA runtime and cuBLAS calls coopgen makes, for the sim build: device memory is host
// memory, copies and sets are memcpy/memset, streams and events are host objects (kernels run
// synchronously, so every stream is always idle), and cuBLAS matrix products go to the CPU
// BLAS. Linked instead of libcudart and libcublas; the signatures come from the CUDA headers.
#include <cblas.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/dtype.h"

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
const char* cudaGetErrorString(cudaError_t error) { return error == cudaSuccess ? "no error" : "sim: CUDA error"; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaMalloc(void** ptr, size_t size) {
  // Exact sizes: AddressSanitizer then catches a kernel that reads past the end.
  *ptr = std::malloc(size ? size : 1);
  return *ptr ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaMalloc(ptr, size); }
cudaError_t cudaFreeHost(void* ptr) { return cudaFree(ptr); }
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind) {
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}
cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  if (count) std::memset(ptr, value, count);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) { return cudaMemset(ptr, value, count); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  static int token;
  *stream = reinterpret_cast<cudaStream_t>(&token);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

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
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
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

// Column-major, as cuBLAS: C = α·op(A)·op(B) + β·C for each of `batch` strided matrices.
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
                                         int n, int k, const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb, long long int strideB,
                                         const float* beta, float* C, int ldc, long long int strideC, int batch) {
  for (int i = 0; i < batch; ++i)
    cblas_sgemm(CblasColMajor, transa == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                transb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, *alpha, A + i * strideA, lda,
                B + i * strideB, ldb, *beta, C + i * strideC, ldc);
  return CUBLAS_STATUS_SUCCESS;
}

// The same through cublasGemmStridedBatchedEx, in the modes coopgen uses: f32 storage with
// CUBLAS_COMPUTE_32F_FAST_16BF (the tensor cores see A and B rounded to bf16, nearest even, and
// accumulate in f32), and bf16 A and B with CUBLAS_COMPUTE_32F into a bf16 C (rounded once at
// the end) or an f32 C. Other types and compute modes are not emulated.
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
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
  const cublasStatus_t st = cublasSgemmStridedBatched(handle, transa, transb, m, n, k, static_cast<const float*>(alpha),
                                                      a16.data(), lda, strideA, b16.data(), ldb, strideB,
                                                      static_cast<const float*>(beta), c, ldc, strideC, batch);
  for (size_t i = 0; i < c32.size(); ++i) static_cast<coopgen::bf16*>(C)[i] = coopgen::float_to_bf16(c32[i]);
  return st;
}

}  // extern "C"
